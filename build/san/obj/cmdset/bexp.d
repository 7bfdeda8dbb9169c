build/san/obj/cmdset/bexp.o: cmdset/bexp.c cmdset/bexp.h cmdset/kv.h \
 cmdset/queue.h cmdset/le.h
cmdset/bexp.h:
cmdset/kv.h:
cmdset/queue.h:
cmdset/le.h:
