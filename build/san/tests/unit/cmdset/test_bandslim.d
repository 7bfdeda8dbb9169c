build/san/tests/unit/cmdset/test_bandslim: \
 tests/unit/cmdset/test_bandslim.c tests/unit/check_main.h \
 cmdset/cmdset.h cmdset/le.h cmdset/queue.h cmdset/regs.h cmdset/status.h \
 cmdset/admin.h cmdset/nvm.h cmdset/kv.h cmdset/bandslim.h cmdset/bexp.h \
 cmdset/tcp.h cmdset/opcode.h cmdset/stats.h cmdset/shm.h cmdset/pcie.h
tests/unit/check_main.h:
cmdset/cmdset.h:
cmdset/le.h:
cmdset/queue.h:
cmdset/regs.h:
cmdset/status.h:
cmdset/admin.h:
cmdset/nvm.h:
cmdset/kv.h:
cmdset/bandslim.h:
cmdset/bexp.h:
cmdset/tcp.h:
cmdset/opcode.h:
cmdset/stats.h:
cmdset/shm.h:
cmdset/pcie.h:
