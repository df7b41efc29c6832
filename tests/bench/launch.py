"""Run a command and write its wall seconds, peak RSS (KiB) and exit status to a file.

``python -S launch.py RESULT_FILE COMMAND...``. The harness measures through
this small process because a child forked from the (large) harness would
count the harness's own pages in its peak RSS; here the measured process and
the processes it waits for are all that count.
"""

import os
import sys
import time

started = time.perf_counter()
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
code = os.waitstatus_to_exitcode(status)
with open(sys.argv[1], "w") as fh:
    fh.write(f"{seconds} {usage.ru_maxrss} {code}\n")
sys.exit(code)
