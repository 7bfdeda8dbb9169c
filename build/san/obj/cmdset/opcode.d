build/san/obj/cmdset/opcode.o: cmdset/opcode.c cmdset/opcode.h \
 cmdset/admin.h cmdset/bandslim.h cmdset/kv.h cmdset/queue.h cmdset/le.h \
 cmdset/bexp.h cmdset/nvm.h
cmdset/opcode.h:
cmdset/admin.h:
cmdset/bandslim.h:
cmdset/kv.h:
cmdset/queue.h:
cmdset/le.h:
cmdset/bexp.h:
cmdset/nvm.h:
