// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Block I/O per container: each read or write request of a followed cgroup
 * (a container's: the agent creates its ps_io_hist entry), counted with its
 * bytes when it completes, and timed from its start (rq->start_time_ns: its
 * allocation, so queueing in the I/O scheduler counts) to its completion
 * into a histogram. The cgroup is the blkcg the block layer charges the
 * request to, in the io controller's hierarchy. One program at completion,
 * BTF-typed (direct loads, no probe reads): I/O of other cgroups costs one
 * map lookup. (v1 blkio's own counters stay at zero on kernels that
 * activate blk-throttle only once a limit is set.)
 */
#include "common.bpf.h"

static const __u64 io_bounds[PS_IO_NB] = PS_IO_BOUNDS_NS;

/*
 * ps_io_done: a request, or a part of it, is done.
 *
 * a device's completion (interrupt, or polling)
 *   the driver's completion: nvme_complete_rq(), scsi_end_request(), virtblk_done(), ...
 *     blk_mq_end_request(), or blk_mq_end_request_batch()
 *       blk_update_request()
 *         trace_block_rq_complete(rq, error, nr_bytes)
 *
 * In the completing CPU's interrupt or softirq context: nothing here may
 * sleep or take long. The request still holds its bio, and through it the
 * blkcg it was charged to.
 */
SEC("tp_btf/block_rq_complete")
int BPF_PROG(ps_io_done, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
	struct bio *bio = rq->bio;
	struct ps_io_hist *h;
	__u64 cgid, start, lat;
	__u32 op = rq->cmd_flags & REQ_OP_MASK_, i;

	if (!bio || (op != REQ_OP_READ && op != REQ_OP_WRITE) || !bpf_core_field_exists(bio->bi_blkg))
		return 0;
	cgid = bio->bi_blkg->blkcg->css.cgroup->kn->id;
	h = bpf_map_lookup_elem(&ps_io_hist, &cgid);
	if (!h)
		return 0;
	if (op == REQ_OP_WRITE)
		__sync_fetch_and_add(&h->write_bytes, nr_bytes);
	else
		__sync_fetch_and_add(&h->read_bytes, nr_bytes);
	/* a request may complete in parts: it is one request, done with the
	 * last part (its remaining length is this part's) */
	if (nr_bytes < rq->__data_len)
		return 0;
	__sync_fetch_and_add(op == REQ_OP_WRITE ? &h->writes : &h->reads, 1);
	start = rq->start_time_ns;
	if (!start)
		return 0;	/* not stamped: the queue keeps no I/O statistics */
	lat = bpf_ktime_get_ns() - start;
	for (i = 0; i < PS_IO_NB; i++)
		if (lat <= io_bounds[i])
			break;
	if (i > PS_IO_NB - 1)
		i = PS_IO_NB;
	__sync_fetch_and_add(&h->count[i], 1);
	__sync_fetch_and_add(&h->sum_ns, lat);
	return 0;
}
