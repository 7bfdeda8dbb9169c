build/obj/cmdset/status.o: cmdset/status.c cmdset/status.h cmdset/queue.h \
 cmdset/le.h
cmdset/status.h:
cmdset/queue.h:
cmdset/le.h:
