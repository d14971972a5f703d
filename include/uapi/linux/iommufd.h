/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * iommufd: user-space control of IO page tables through /dev/iommu.
 *
 * The numbers, layouts and flags below are those of upstream Linux, so that
 * a program built against either header runs on either kernel.
 */
#ifndef _UAPI_IOMMUFD_H
#define _UAPI_IOMMUFD_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define IOMMUFD_TYPE (';')

/*
 * Every command takes a single struct whose first member, @size, is the
 * number of bytes user space passes.  The kernel reads at most the struct it
 * knows: a @size below the command's first version fails with EINVAL, and
 * bytes past the known struct must be zero or the command fails with E2BIG.
 * So a struct grows only by appending members, and older programs keep
 * working.  Unknown flags, options or non-zero reserved members fail with
 * EOPNOTSUPP, an unknown command with ENOTTY, an unknown object id with
 * ENOENT.
 */
enum {
	IOMMUFD_CMD_BASE = 0x80,
	IOMMUFD_CMD_DESTROY = IOMMUFD_CMD_BASE,
	IOMMUFD_CMD_IOAS_ALLOC = 0x81,
	IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82,
	IOMMUFD_CMD_IOAS_COPY = 0x83,
	IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84,
	IOMMUFD_CMD_IOAS_MAP = 0x85,
	IOMMUFD_CMD_IOAS_UNMAP = 0x86,
	IOMMUFD_CMD_OPTION = 0x87,
	IOMMUFD_CMD_HWPT_ALLOC = 0x89,
	IOMMUFD_CMD_GET_HW_INFO = 0x8a,
	/*
	 * 0x8b to 0x94 are upstream commands this kernel does not have;
	 * 0x95 is the number the noiommu series for upstream gives this one.
	 */
	IOMMUFD_CMD_IOAS_NOIOMMU_GET_PA = 0x95,
};

/**
 * struct iommu_destroy - ioctl(IOMMU_DESTROY)
 * @size: sizeof(struct iommu_destroy)
 * @id: the object to destroy, of any type
 *
 * Destroys an object by its id.  An object that another object or an
 * in-flight command still uses is not destroyed: EBUSY.
 */
struct iommu_destroy {
	__u32 size;
	__u32 id;
};

#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY)

/**
 * struct iommu_ioas_alloc - ioctl(IOMMU_IOAS_ALLOC)
 * @size: sizeof(struct iommu_ioas_alloc)
 * @flags: must be 0
 * @out_ioas_id: the id of the new IOAS
 *
 * Creates an IO address space (IOAS): an empty map from IOVAs to user
 * memory, which devices and hardware page tables attached to it follow.
 */
struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};

#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)

/**
 * struct iommu_iova_range - an inclusive range of IOVAs
 * @start: first IOVA
 * @last: last IOVA, inclusive
 */
struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/**
 * struct iommu_ioas_iova_ranges - ioctl(IOMMU_IOAS_IOVA_RANGES)
 * @size: sizeof(struct iommu_ioas_iova_ranges)
 * @ioas_id: the IOAS to query
 * @num_iovas: in: room in @allowed_iovas, in entries; out: how many ranges
 *             there are
 * @__reserved: must be 0
 * @allowed_iovas: user pointer to an array of struct iommu_iova_range
 * @out_iova_alignment: every IOVA and length given to IOMMU_IOAS_MAP or
 *                      IOMMU_IOAS_COPY must be a multiple of this
 *
 * Reports the IOVA ranges that can be mapped now: the whole IOVA space less
 * what the attached devices and page tables reserve or cannot translate.
 * The answer changes as devices come and go.  If the array is too small the
 * call fails with EMSGSIZE, @num_iovas says how many entries are needed, and
 * the entries that fitted are written.
 */
struct iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
	__aligned_u64 out_iova_alignment;
};

#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_IOVA_RANGES)

/**
 * struct iommu_ioas_allow_iovas - ioctl(IOMMU_IOAS_ALLOW_IOVAS)
 * @size: sizeof(struct iommu_ioas_allow_iovas)
 * @ioas_id: the IOAS to restrict
 * @num_iovas: entries in @allowed_iovas; 0 lifts the restriction
 * @__reserved: must be 0
 * @allowed_iovas: user pointer to an array of struct iommu_iova_range
 *
 * Limits the IOVAs that the kernel picks by itself (IOMMU_IOAS_MAP without
 * IOMMU_IOAS_MAP_FIXED_IOVA) to these ranges, which replace any earlier
 * ones.  A VMM uses it to keep kernel-chosen IOVAs inside the guest's
 * physical address space.  Ranges must not overlap (EINVAL), need
 * start < last (EINVAL), and must not cover a reserved IOVA (EADDRINUSE);
 * while they are in force, a device whose reserved regions intersect them
 * cannot be attached.
 */
struct iommu_ioas_allow_iovas {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
};

#define IOMMU_IOAS_ALLOW_IOVAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOW_IOVAS)

/**
 * enum iommufd_ioas_map_flags - flags of IOMMU_IOAS_MAP and IOMMU_IOAS_COPY
 * @IOMMU_IOAS_MAP_FIXED_IOVA: map at the given IOVA; otherwise the kernel
 *                             chooses one and returns it
 * @IOMMU_IOAS_MAP_WRITEABLE: devices may write the memory
 * @IOMMU_IOAS_MAP_READABLE: devices may read the memory
 */
enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

/**
 * struct iommu_ioas_map - ioctl(IOMMU_IOAS_MAP)
 * @size: sizeof(struct iommu_ioas_map)
 * @flags: enum iommufd_ioas_map_flags; at least one of READABLE, WRITEABLE
 * @ioas_id: the IOAS to map into
 * @__reserved: must be 0
 * @user_va: start of the user memory
 * @length: bytes to map
 * @iova: in with IOMMU_IOAS_MAP_FIXED_IOVA: where to map; out: where the
 *        memory was mapped
 *
 * Maps the user memory in every page table that follows the IOAS.  While
 * one does (or an emulated device pins pages), the memory is pinned and
 * charged to the caller's RLIMIT_MEMLOCK (see IOMMU_OPTION_RLIMIT_MODE);
 * an IOAS that nothing uses pins nothing.  The new mapping must not overlap
 * an existing one (EEXIST) nor a reserved IOVA (EINVAL), and IOVA, user
 * address and length must be multiples of out_iova_alignment of
 * IOMMU_IOAS_IOVA_RANGES (EINVAL).  Several mappings of the same memory
 * are allowed.
 */
struct iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};

#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)

/**
 * struct iommu_ioas_copy - ioctl(IOMMU_IOAS_COPY)
 * @size: sizeof(struct iommu_ioas_copy)
 * @flags: as for IOMMU_IOAS_MAP
 * @dst_ioas_id: the IOAS to map into
 * @src_ioas_id: the IOAS whose mappings are copied
 * @length: bytes to copy
 * @dst_iova: as @iova of IOMMU_IOAS_MAP, in @dst_ioas_id
 * @src_iova: start of the range in @src_ioas_id
 *
 * Maps in @dst_ioas_id the memory that is mapped at
 * [@src_iova, @src_iova + @length) in @src_ioas_id, which must be mapped
 * entirely (ENOENT otherwise).  The memory is shared with the source: it
 * is never pinned or charged twice.
 */
struct iommu_ioas_copy {
	__u32 size;
	__u32 flags;
	__u32 dst_ioas_id;
	__u32 src_ioas_id;
	__aligned_u64 length;
	__aligned_u64 dst_iova;
	__aligned_u64 src_iova;
};

#define IOMMU_IOAS_COPY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_COPY)

/**
 * struct iommu_ioas_unmap - ioctl(IOMMU_IOAS_UNMAP)
 * @size: sizeof(struct iommu_ioas_unmap)
 * @ioas_id: the IOAS to unmap from
 * @iova: start of the range
 * @length: in: bytes; out: how many bytes were unmapped
 *
 * Removes every mapping inside the range.  A mapping is removed whole or not
 * at all: a range that cuts one fails with ENOENT, and so does a range with
 * nothing in it.  @iova 0 with @length UINT64_MAX unmaps everything and
 * succeeds on an empty IOAS too.
 */
struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};

#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP)

/**
 * enum iommufd_option - the options of IOMMU_OPTION
 * @IOMMU_OPTION_RLIMIT_MODE: of the whole iommufd (@object_id 0): 0 charges
 *                            pinned memory to the user's locked memory, 1 to
 *                            the process's pinned memory.  Changing it needs
 *                            CAP_SYS_RESOURCE and an iommufd with no objects.
 * @IOMMU_OPTION_HUGE_PAGES: of an IOAS: 1 (the default) maps with the
 *                           largest page sizes the IOMMU supports, 0 only
 *                           with PAGE_SIZE pages.
 */
enum iommufd_option {
	IOMMU_OPTION_RLIMIT_MODE = 0,
	IOMMU_OPTION_HUGE_PAGES = 1,
};

/**
 * enum iommufd_option_ops - what IOMMU_OPTION does
 * @IOMMU_OPTION_OP_SET: set the option to @val64
 * @IOMMU_OPTION_OP_GET: return the option in @val64
 */
enum iommufd_option_ops {
	IOMMU_OPTION_OP_SET = 0,
	IOMMU_OPTION_OP_GET = 1,
};

/**
 * struct iommu_option - ioctl(IOMMU_OPTION)
 * @size: sizeof(struct iommu_option)
 * @option_id: enum iommufd_option
 * @op: enum iommufd_option_ops
 * @__reserved: must be 0
 * @object_id: the object the option belongs to, 0 for the iommufd itself
 * @val64: the value to set, or the value read
 */
struct iommu_option {
	__u32 size;
	__u32 option_id;
	__u16 op;
	__u16 __reserved;
	__u32 object_id;
	__aligned_u64 val64;
};

#define IOMMU_OPTION _IO(IOMMUFD_TYPE, IOMMUFD_CMD_OPTION)

/**
 * enum iommufd_hwpt_alloc_flags - flags of IOMMU_HWPT_ALLOC
 * @IOMMU_HWPT_ALLOC_NEST_PARENT: the HWPT is to be the stage-2 parent of
 *                                nested HWPTs
 * @IOMMU_HWPT_ALLOC_DIRTY_TRACKING: the HWPT records which IOVAs devices
 *                                   wrote
 * @IOMMU_HWPT_FAULT_ID_VALID: @fault_id names a fault queue for the HWPT
 *
 * Defined for programs written against later kernels.  This kernel's IOMMU
 * drivers support none of them: each fails with EOPNOTSUPP.
 */
enum iommufd_hwpt_alloc_flags {
	IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0,
	IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1,
	IOMMU_HWPT_FAULT_ID_VALID = 1 << 2,
};

/**
 * enum iommu_hwpt_data_type - what @data_uptr of IOMMU_HWPT_ALLOC points to
 * @IOMMU_HWPT_DATA_NONE: nothing: a paging HWPT the kernel fills from an
 *                        IOAS
 */
enum iommu_hwpt_data_type {
	IOMMU_HWPT_DATA_NONE = 0,
};

/**
 * struct iommu_hwpt_alloc - ioctl(IOMMU_HWPT_ALLOC)
 * @size: sizeof(struct iommu_hwpt_alloc)
 * @flags: enum iommufd_hwpt_alloc_flags; must be 0 here
 * @dev_id: a bound device whose IOMMU is to walk the page table
 * @pt_id: the IOAS the HWPT follows
 * @out_hwpt_id: the id of the new HWPT
 * @__reserved: must be 0
 * @data_type: enum iommu_hwpt_data_type
 * @data_len: bytes at @data_uptr; 0 exactly when @data_type is
 *            IOMMU_HWPT_DATA_NONE (else EINVAL)
 * @data_uptr: driver-specific page table data
 * @fault_id: a fault queue, with IOMMU_HWPT_FAULT_ID_VALID
 * @__reserved2: must be 0
 *
 * Makes a hardware page table (HWPT): an IOMMU domain of @dev_id's IOMMU
 * that maps whatever the IOAS @pt_id maps, now and later.  Devices are then
 * attached to the HWPT by its id, where attaching them to the IOAS would
 * have made one per attachment.  Several devices may share a HWPT when
 * their IOMMU accepts its domain.  The HWPT holds the IOAS, and is freed
 * with IOMMU_DESTROY once no device uses it.
 *
 * ENOENT for an unknown device or IOAS, EINVAL if @pt_id is neither an IOAS
 * nor a HWPT, EOPNOTSUPP for a HWPT @pt_id (nesting) or any flag or data.
 */
struct iommu_hwpt_alloc {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 pt_id;
	__u32 out_hwpt_id;
	__u32 __reserved;
	__u32 data_type;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 fault_id;
	__u32 __reserved2;
};

#define IOMMU_HWPT_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_ALLOC)

/**
 * struct iommu_hw_info_vtd - what IOMMU_GET_HW_INFO tells of an Intel VT-d
 * @flags: errata of the IOMMU; none are reported
 * @__reserved: 0
 * @cap_reg: the Capability Register, as the VT-d specification lays it out
 * @ecap_reg: the Extended Capability Register, likewise
 *
 * The two registers tell a VMM what a virtual VT-d it emulates may offer a
 * guest: address widths, page sizes, snoop control, scalable mode, PASIDs.
 */
struct iommu_hw_info_vtd {
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 cap_reg;
	__aligned_u64 ecap_reg;
};

/**
 * struct iommu_hw_info_arm_smmuv3 - what an Arm SMMUv3 reports
 *                                   (IOMMU_HW_INFO_TYPE_ARM_SMMUV3)
 * @flags: 0
 * @__reserved: 0
 * @idr: the SMMU_IDR0 to SMMU_IDR5 registers, the features of the SMMU's
 *       Non-secure programming interface, as read from the hardware
 * @iidr: the SMMU_IIDR register: implementer, product and revision
 * @aidr: the SMMU_AIDR register: the architecture version
 *
 * The SMMUv3 architecture specification (6.3.1 to 6.3.6) says how to decode
 * them.  They say what the hardware has, not what the kernel supports: a
 * VMM that models a virtual SMMUv3 on them passes on only the features it
 * knows it can back.
 */
struct iommu_hw_info_arm_smmuv3 {
	__u32 flags;
	__u32 __reserved;
	__u32 idr[6];
	__u32 iidr;
	__u32 aidr;
};

/**
 * enum iommu_hw_info_type - which struct IOMMU_GET_HW_INFO returned
 * @IOMMU_HW_INFO_TYPE_NONE: none; the IOMMU driver reports nothing
 * @IOMMU_HW_INFO_TYPE_INTEL_VTD: struct iommu_hw_info_vtd
 * @IOMMU_HW_INFO_TYPE_ARM_SMMUV3: struct iommu_hw_info_arm_smmuv3
 */
enum iommu_hw_info_type {
	IOMMU_HW_INFO_TYPE_NONE = 0,
	IOMMU_HW_INFO_TYPE_INTEL_VTD = 1,
	IOMMU_HW_INFO_TYPE_ARM_SMMUV3 = 2,
};

/**
 * struct iommu_hw_info - ioctl(IOMMU_GET_HW_INFO)
 * @size: sizeof(struct iommu_hw_info)
 * @flags: must be 0
 * @dev_id: a bound device
 * @data_len: in: bytes at @data_uptr; out: the size of the driver's struct
 * @data_uptr: where the driver's struct is written
 * @out_data_type: enum iommu_hw_info_type of that struct
 * @out_max_pasid_log2: log2 of the PASIDs the device can use with this
 *                      IOMMU; 0 when it cannot use any
 * @__reserved: must be 0
 * @out_capabilities: what the IOMMU can do for the device beyond paging;
 *                    no capability is reported here
 *
 * Describes the IOMMU that translates @dev_id.  The kernel writes at most
 * @data_len bytes of its struct, and zeroes what the user's buffer holds
 * beyond its struct, so user space can pass a struct from a newer or an
 * older header alike and compare the returned @data_len.
 */
struct iommu_hw_info {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 out_data_type;
	__u8 out_max_pasid_log2;
	__u8 __reserved[3];
	__aligned_u64 out_capabilities;
};

#define IOMMU_GET_HW_INFO _IO(IOMMUFD_TYPE, IOMMUFD_CMD_GET_HW_INFO)

/**
 * struct iommu_ioas_noiommu_get_pa - ioctl(IOMMU_IOAS_NOIOMMU_GET_PA)
 * @size: sizeof(struct iommu_ioas_noiommu_get_pa)
 * @flags: must be 0
 * @ioas_id: an IOAS with a device without an IOMMU (noiommu) attached
 * @__reserved: must be 0
 * @iova: the IOVA asked about; any byte of a mapped page
 * @length: in: the most bytes to report, 0 for no limit; out: how many
 *          bytes from @out_phys on are physically contiguous, within the
 *          mapping that holds @iova and within the limit
 * @out_phys: the physical address the byte at @iova is in memory
 *
 * A device without an IOMMU does DMA to physical addresses.  Attached to an
 * IOAS, it makes the IOAS pin what is mapped in it (FOLL_LONGTERM, charged
 * to RLIMIT_MEMLOCK as any pinning), so the pages stay where they are until
 * they are unmapped; this tells user space where they are.  An IOVA is
 * only a name user space gives its buffer here: nothing translates it, and
 * nothing enforces the read/write flags of the mapping either, so memory
 * the device may write must be mapped IOMMU_IOAS_MAP_WRITEABLE, to be
 * pinned for writing (else a shared page, such as the zero page, may be
 * what is pinned).  On a 32-bit kernel an @iova above 4 GiB is -EOVERFLOW.
 *
 * Only for a process with CAP_SYS_RAWIO (-EPERM otherwise), on a kernel
 * with CONFIG_IOMMUFD_NOIOMMU (-ENOTTY otherwise).  -EOPNOTSUPP for a flag
 * or a reserved field, or when no noiommu device is attached to the IOAS;
 * -ENOENT for an unknown IOAS or an IOVA that is not mapped.  A run ends
 * at the end of a mapping: what one IOMMU_IOAS_MAP made, or one piece of
 * what an IOMMU_IOAS_COPY made, one per area it copied.
 */
struct iommu_ioas_noiommu_get_pa {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 out_phys;
};

#define IOMMU_IOAS_NOIOMMU_GET_PA _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_NOIOMMU_GET_PA)

#endif
