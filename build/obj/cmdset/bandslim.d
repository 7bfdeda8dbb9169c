build/obj/cmdset/bandslim.o: cmdset/bandslim.c cmdset/bandslim.h \
 cmdset/kv.h cmdset/queue.h cmdset/le.h
cmdset/bandslim.h:
cmdset/kv.h:
cmdset/queue.h:
cmdset/le.h:
