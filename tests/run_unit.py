#!/usr/bin/python3
"""Runs each unit test binary (cmocka) and prints one closing line:
'unit: N passed, N failed'. Exit status 1 when any binary failed.

Unit tests read only what they made themselves (a temporary root under
/tmp). To keep it so, as root each binary runs in a private mount namespace
where the host's runtime state (/run, /var/run, /var/lib/containerd,
/var/lib/containers, /var/lib/docker) and cgroupfs (/sys/fs/cgroup) are
empty tmpfs mounts: a test that reads the host's state fails on every
machine, not only on a fresh one. Without root (no mount namespace to make)
the binaries run as they are."""
import os
import shutil
import subprocess
import sys
import time

HIDDEN = ["/run", "/var/run", "/var/lib/containerd", "/var/lib/containers", "/var/lib/docker",
          "/sys/fs/cgroup"]
# Mounts the tmpfs over each hidden directory that exists, in the namespace
# unshare made, then runs the test. /var/run is usually a link to /run.
HIDE = ('for d in %s; do if [ -d "$d" ] && [ ! -L "$d" ]; then '
        'mount -t tmpfs -o size=1m,mode=755 podsight-unit "$d" || exit 125; fi; done; exec "$@"') % " ".join(HIDDEN)


def command(binary):
    if os.geteuid() == 0 and shutil.which("unshare"):
        return ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", HIDE, "sh", binary]
    return [binary]


passed = failed = 0
bad = []
if os.geteuid() == 0 and not shutil.which("unshare"):
    print("unit: warning: no unshare(1): the host's runtime state is not hidden from the tests")
for binary in sys.argv[1:]:
    t0 = time.time()
    r = subprocess.run(command(binary), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
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
