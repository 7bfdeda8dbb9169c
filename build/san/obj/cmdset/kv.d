build/san/obj/cmdset/kv.o: cmdset/kv.c cmdset/kv.h cmdset/queue.h \
 cmdset/le.h
cmdset/kv.h:
cmdset/queue.h:
cmdset/le.h:
