/* What the agent picks from /proc/self when it runs in a container: the
 * cgroup mounts (mountinfo as runtimes and hostPath volumes leave it) and
 * how its BPF programs tell its own records apart. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "mountinfo.h"
#include "selfid.h"

/* This host: hybrid, v1 controllers and cgroup2 at .../unified. */
static const char hybrid_host[] =
	"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
	"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static void assert_mount(const struct cgmounts *cm, enum cgmnt_kind k, const char *path, const char *root)
{
	assert_true(cm->m[k].found);
	assert_string_equal(cm->m[k].path, path);
	assert_string_equal(cm->m[k].root, root);
}

static void test_host(void **state)
{
	struct cgmounts cm;

	assert_int_equal(mountinfo_cgroups(hybrid_host, &cm), 0);
	assert_mount(&cm, CGMNT_V2, "/sys/fs/cgroup/unified", "/");
	assert_mount(&cm, CGMNT_MEMORY, "/sys/fs/cgroup/memory", "/");
	assert_mount(&cm, CGMNT_BLKIO, "/sys/fs/cgroup/blkio", "/");
	assert_mount(&cm, CGMNT_CPU, "/sys/fs/cgroup/cpu", "/");
	assert_mount(&cm, CGMNT_CPUACCT, "/sys/fs/cgroup/cpuacct", "/");
	assert_int_equal(cm.m[CGMNT_MEMORY].depth, 0);
	assert_false(cm.m[CGMNT_MEMORY].hidden);
	assert_string_equal(cgmnt_name(CGMNT_V2), "cgroup2");
	assert_string_equal(cgmnt_name(CGMNT_CPUACCT), "cpuacct");
}

/* A container on a hybrid host: the runtime's own view of the container's
 * cgroups, then the host's /sys/fs/cgroup bind-mounted (rbind) over it. */
static void test_pod_hostpath_over_runtime_view(void **state)
{
	static const char text[] =
		"600 550 0:60 / / ro,relatime - overlay overlay rw\n"
		"610 600 0:61 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs rw,mode=755\n"
		"611 610 0:32 /kubepods/besteffort/pod1/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n"
		"612 610 0:29 /kubepods/besteffort/pod1/abc /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct\n"
		"613 610 0:38 / /sys/fs/cgroup/unified ro - cgroup2 cgroup2 rw\n"
		"620 600 0:28 / /sys/fs/cgroup ro,relatime master:9 - tmpfs tmpfs rw,mode=755\n"
		"621 620 0:32 / /sys/fs/cgroup/memory ro,relatime master:14 - cgroup cgroup rw,memory\n"
		"622 620 0:29 / /sys/fs/cgroup/cpu ro,relatime master:11 - cgroup cgroup rw,cpu\n"
		"623 620 0:30 / /sys/fs/cgroup/cpuacct ro,relatime master:12 - cgroup cgroup rw,cpuacct\n"
		"624 620 0:38 / /sys/fs/cgroup/unified ro,relatime master:19 - cgroup2 cgroup2 rw\n";
	struct cgmounts cm;

	assert_int_equal(mountinfo_cgroups(text, &cm), 0);
	assert_mount(&cm, CGMNT_MEMORY, "/sys/fs/cgroup/memory", "/");
	assert_false(cm.m[CGMNT_MEMORY].hidden);
	assert_mount(&cm, CGMNT_CPU, "/sys/fs/cgroup/cpu", "/");
	assert_mount(&cm, CGMNT_CPUACCT, "/sys/fs/cgroup/cpuacct", "/");
	assert_mount(&cm, CGMNT_V2, "/sys/fs/cgroup/unified", "/");
	assert_false(cm.m[CGMNT_V2].hidden);	/* the later one, not the covered one */
	assert_false(cm.m[CGMNT_BLKIO].found);
}

/* A v2 host, the container in the host's cgroup namespace: the runtime's
 * view (root: the container's cgroup) under the host's whole tree. */
static void test_v2_root_preferred(void **state)
{
	static const char text[] =
		"700 650 0:70 / / ro - overlay overlay rw\n"
		"701 700 0:27 /kubepods.slice/kubepods-pod1.slice/cri-containerd-abc.scope /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n"
		"702 700 0:27 / /sys/fs/cgroup ro master:5 - cgroup2 cgroup2 rw,nsdelegate\n";
	struct cgmounts cm;

	assert_int_equal(mountinfo_cgroups(text, &cm), 0);
	assert_mount(&cm, CGMNT_V2, "/sys/fs/cgroup", "/");
	assert_false(cm.m[CGMNT_MEMORY].found);
}

/* In a cgroup namespace of its own the runtime's view is "/" and the
 * host's tree shows as above the namespace's root. */
static void test_v2_cgroupns(void **state)
{
	static const char text[] =
		"701 700 0:27 / /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n"
		"702 700 0:27 /../../.. /sys/fs/cgroup ro master:5 - cgroup2 cgroup2 rw\n";
	struct cgmounts cm;

	assert_int_equal(mountinfo_cgroups(text, &cm), 0);
	assert_mount(&cm, CGMNT_V2, "/sys/fs/cgroup", "/../../..");
	assert_int_equal(cm.m[CGMNT_V2].depth, -3);
}

/* Both visible: the root "/" wins over a sub-tree, wherever it is listed. */
static void test_two_visible(void **state)
{
	static const char text[] =
		"41 31 0:38 /system.slice /run/other rw - cgroup2 cgroup2 rw\n"
		"42 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
		"43 31 0:38 / /mnt/again rw - cgroup2 cgroup2 rw\n";
	struct cgmounts cm;

	assert_int_equal(mountinfo_cgroups(text, &cm), 0);
	assert_mount(&cm, CGMNT_V2, "/sys/fs/cgroup/unified", "/");	/* the first of equals */
	assert_int_equal(cm.m[CGMNT_V2].depth, 0);
}

/* A covered mount cannot be opened by its path: a visible sub-tree is
 * better than an invisible whole tree. */
static void test_hidden_loses(void **state)
{
	static const char text[] =
		"41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
		"50 31 0:99 / /sys/fs rw - tmpfs tmpfs rw\n"
		"51 50 0:38 /kubepods /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
	struct cgmounts cm;

	assert_int_equal(mountinfo_cgroups(text, &cm), 0);
	assert_mount(&cm, CGMNT_V2, "/sys/fs/cgroup/unified", "/kubepods");
	assert_int_equal(cm.m[CGMNT_V2].depth, 1);
	assert_false(cm.m[CGMNT_V2].hidden);
}

/* The kernel's octal escapes, in roots and mount points. */
static void test_escapes(void **state)
{
	static const char text[] =
		"41 31 0:38 /a\\040b /mnt/with\\040space\\134x rw - cgroup2 cgroup2 rw\n";
	struct cgmounts cm;
	char s[] = "a\\011b\\012c\\\\d\\9";

	assert_int_equal(mountinfo_cgroups(text, &cm), 0);
	assert_mount(&cm, CGMNT_V2, "/mnt/with space\\x", "/a b");
	mountinfo_unescape(s);
	assert_string_equal(s, "a\tb\nc\\\\d\\9");
}

static void test_malformed_and_none(void **state)
{
	static const char junk[] =
		"\n"
		"nonsense\n"
		"1 2 3\n"
		"1 2 3 - cgroup2 x rw\n"				/* too few fields before " - " */
		"41 31 0:38 / /x rw -\n"				/* no type */
		"42 31 0:1 / /y rw - tmpfs tmpfs rw";			/* no newline at the end */
	struct cgmounts cm;
	char big[6000];

	assert_int_equal(mountinfo_cgroups("", &cm), -ENOENT);
	assert_false(cm.m[CGMNT_V2].found);
	assert_int_equal(mountinfo_cgroups(junk, &cm), -ENOENT);
	/* a mount point longer than the field: skipped, not cut */
	snprintf(big, sizeof(big), "41 31 0:38 / /%0300d rw - cgroup2 cgroup2 rw\n"
		 "42 31 0:38 / /ok rw - cgroup2 cgroup2 rw\n", 0);
	assert_int_equal(mountinfo_cgroups(big, &cm), 0);
	assert_mount(&cm, CGMNT_V2, "/ok", "/");
	/* a line longer than any real one: skipped */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(mountinfo_cgroups(big, &cm), -ENOENT);
	assert_int_equal(mountinfo_cgroups("1 1 0:1 / /a rw - cgroup cgroup rw,name=systemd\n", &cm), 0);
	assert_false(cm.m[CGMNT_MEMORY].found);	/* a cgroup mount, but none of ours */
}

#define STATUS(tgid, nspid) \
	"Name:\tpodsight\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t" tgid "\nNgid:\t0\nPid:\t" tgid \
	"\nPPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nNSpid:\t" nspid "\n"

static void test_self_host_pidns(void **state)
{
	struct self_id id;

	assert_int_equal(self_id_choose(SELFID_INIT_PIDNS, 4242, NULL, false, &id), 0);
	assert_true(id.host_pidns);
	assert_int_equal(id.tgid, 4242);
	assert_int_equal(id.pidns, 0);
}

static void test_self_own_pidns(void **state)
{
	struct self_id id;

	/* its own /proc: NSpid has one field */
	assert_int_equal(self_id_choose(4026532251u, 1, STATUS("1", "1"), false, &id), 0);
	assert_false(id.host_pidns);
	assert_int_equal(id.tgid, 0);
	assert_int_equal(id.pidns, 4026532251u);
	assert_int_equal(id.nspid, 1);
	/* the host's /proc: the first field is the outer pid */
	assert_int_equal(self_id_choose(4026532251u, 1, STATUS("6516", "6516\t1"), true, &id), 0);
	assert_false(id.host_pidns);
	assert_int_equal(id.tgid, 6516);
	assert_int_equal(id.pidns, 0);
	/* nested: the /proc of an intermediate namespace is not the kernel's view */
	assert_int_equal(self_id_choose(4026532251u, 7, STATUS("30", "30\t7"), false, &id), 0);
	assert_int_equal(id.tgid, 0);
	assert_int_equal(id.pidns, 4026532251u);
	assert_int_equal(id.nspid, 7);
	/* a status that is not ours (innermost pid differs) */
	assert_int_equal(self_id_choose(4026532251u, 7, STATUS("30", "30\t8"), true, &id), 0);
	assert_int_equal(id.tgid, 0);
	assert_int_equal(id.nspid, 7);
	/* unreadable, malformed */
	assert_int_equal(self_id_choose(4026532251u, 7, NULL, true, &id), 0);
	assert_int_equal(id.nspid, 7);
	assert_int_equal(self_id_choose(4026532251u, 7, "Tgid:\tx\n", true, &id), -EINVAL);
}

static void test_kthread_stat(void **state)
{
	assert_true(self_id_stat_is_kthread("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0\n"));
	/* a comm with ") " in it cannot shift the fields */
	assert_true(self_id_stat_is_kthread("2 (a) S 1 2 3) S 0 0 0 0 -1 2129984 0 0 0\n"));
	assert_false(self_id_stat_is_kthread("2 (sh) S 0 2 2 34816 2 4194560 100 0\n"));
	assert_false(self_id_stat_is_kthread("2 (sh) S 0 2"));
	assert_false(self_id_stat_is_kthread("2 (sh) S 0 2 2 0 -1 x 0\n"));
	assert_false(self_id_stat_is_kthread("no parenthesis"));
	assert_false(self_id_stat_is_kthread(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_pod_hostpath_over_runtime_view),
		cmocka_unit_test(test_v2_root_preferred),
		cmocka_unit_test(test_v2_cgroupns),
		cmocka_unit_test(test_two_visible),
		cmocka_unit_test(test_hidden_loses),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_malformed_and_none),
		cmocka_unit_test(test_self_host_pidns),
		cmocka_unit_test(test_self_own_pidns),
		cmocka_unit_test(test_kthread_stat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
