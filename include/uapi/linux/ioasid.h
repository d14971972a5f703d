/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * /dev/ioasid: PASIDs (IOASIDs) for user space, one namespace per open file.
 *
 * Every open of /dev/ioasid is a namespace of its own: the IDs it allocates
 * belong to that file, any holder of the file may use it, and closing it frees
 * every ID it still holds.  IDs are system-wide (PCIe PASIDs): they come from
 * the same pool as the kernel's own SVA PASIDs and are charged, one each, to
 * the "ioasids" resource of the misc cgroup controller of the task that
 * opened the file.
 *
 * The ioctls follow the argsz/flags convention of VFIO: @argsz is the size of
 * the structure user space passes in, @flags must be 0.  There is no API
 * version ioctl (number IOASID_BASE + 0 stays unused): a changed ABI gets new
 * ioctl numbers.
 */
#ifndef _UAPI_LINUX_IOASID_H
#define _UAPI_LINUX_IOASID_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define IOASID_TYPE	('i')
#define IOASID_BASE	100

/**
 * struct ioasid_info - argument of IOASID_GET_INFO
 * @argsz: size of the structure user space passes in; at least 12 (up to
 *	   @ioasid_bits); what lies beyond @argsz is not written
 * @flags: must be 0
 * @ioasid_bits: IDs handed out through this interface are below
 *		 1 << @ioasid_bits (the system's PASID width, at most 31)
 * @capacity: number of IDs the system has (misc.capacity's "ioasids")
 * @quota: most IDs this open file may hold at once (parked IDs included)
 * @count: IDs charged to this open file now, parked ones included
 *
 * Return: 0, or -1 with errno EINVAL (@argsz below 12, @flags set) or
 * EFAULT.
 */
struct ioasid_info {
	__u32	argsz;
	__u32	flags;
	__u32	ioasid_bits;
	__u32	capacity;
	__u32	quota;
	__u32	count;
};

#define IOASID_GET_INFO		_IO(IOASID_TYPE, IOASID_BASE + 1)

/**
 * struct ioasid_alloc_request - argument of IOASID_REQUEST_ALLOC
 * @argsz: sizeof(struct ioasid_alloc_request)
 * @flags: must be 0
 * @range: the new ID is in [@range.min, @range.max]
 * @range.min: lowest acceptable ID, at least 1 (PASID 0 is what devices
 *	       use for requests without a PASID)
 * @range.max: highest acceptable ID, below 1 << ioasid_bits
 *
 * Return: the new ID (a non-negative int), or -1 with errno EINVAL (@argsz,
 * @flags, an empty or out-of-bounds range), ENOSPC (no free ID in the range),
 * EDQUOT (the file's quota is reached), EBUSY (the misc cgroup's "ioasids"
 * limit of the opener's cgroup, or of one above it, is reached; counted in
 * its misc.events), ENOMEM or EFAULT.
 */
struct ioasid_alloc_request {
	__u32	argsz;
	__u32	flags;
	struct {
		__u32	min;
		__u32	max;
	} range;
};

#define IOASID_REQUEST_ALLOC	_IO(IOASID_TYPE, IOASID_BASE + 2)

/*
 * IOASID_REQUEST_FREE - free an ID of this open file
 *
 * The argument points to an int, the ID.  The ID leaves the file at once and
 * its charge is given back when the last in-kernel user of it lets go; until
 * then it is parked: no one can allocate or take it.
 *
 * Return: 0, or -1 with errno EINVAL (a negative ID), ENOENT (not an ID this
 * file holds) or EFAULT.
 */
#define IOASID_REQUEST_FREE	_IO(IOASID_TYPE, IOASID_BASE + 3)

#endif /* _UAPI_LINUX_IOASID_H */
