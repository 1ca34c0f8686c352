#!/usr/bin/python3
"""Runs each unit test binary (cmocka) and prints one closing line:
'unit: N passed, N failed'. Exit status 1 when any binary failed."""
import subprocess
import sys
import time

passed = failed = 0
bad = []
for binary in sys.argv[1:]:
    t0 = time.time()
    r = subprocess.run([binary], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       errors="replace", env={"CMOCKA_MESSAGE_OUTPUT": "stdout", "PATH": "/usr/bin:/bin"})
    ok = r.returncode == 0
    print("%-6s %s (%.1fs)" % ("ok" if ok else "FAIL", binary, time.time() - t0))
    if ok:
        passed += 1
    else:
        failed += 1
        bad.append(binary)
        sys.stdout.write(r.stdout[-6000:])
print("unit: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
