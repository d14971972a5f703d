// SPDX-License-Identifier: GPL-2.0-only
/*
 * The IOAS commands.  Each one checks the user's struct, turns it into a
 * call of the io_pagetable API (io_pagetable.c) and reports the result; the
 * rules about IOVAs live there, not here.
 */
#include <linux/interval_tree.h>
#include <linux/iommu.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

#define IOMMUFD_MAP_FLAGS                                                    \
	(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE |              \
	 IOMMU_IOAS_MAP_READABLE)

void iommufd_ioas_destroy(struct iommufd_object *obj)
{
	struct iommufd_ioas *ioas = container_of(obj, struct iommufd_ioas, obj);

	/* Every HWPT holds the IOAS: none can be left. */
	WARN_ON(!list_empty(&ioas->hwpt_list));
	mutex_destroy(&ioas->mutex);
	iopt_destroy_table(&ioas->iopt);
}

int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_alloc *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->flags)
		return -EOPNOTSUPP;

	ioas = iommufd_object_alloc(ucmd->ictx, struct iommufd_ioas,
				    IOMMUFD_OBJ_IOAS);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	iopt_init_table(&ioas->iopt);
	mutex_init(&ioas->mutex);
	INIT_LIST_HEAD(&ioas->hwpt_list);

	cmd->out_ioas_id = ioas->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		iommufd_object_abort_and_destroy(ucmd->ictx, &ioas->obj);
		return rc;
	}
	iommufd_object_finalize(ucmd->ictx, &ioas->obj);
	return 0;
}

struct iova_ranges_out {
	struct iopt_range_walker walker;
	struct iommu_iova_range __user *ranges;
	u32 room;
	u32 count;
};

static int iova_ranges_emit(struct iopt_range_walker *walker,
			    unsigned long start, unsigned long last)
{
	struct iova_ranges_out *out =
		container_of(walker, struct iova_ranges_out, walker);
	struct iommu_iova_range range = { .start = start, .last = last };

	if (out->count < out->room &&
	    copy_to_user(&out->ranges[out->count], &range, sizeof(range)))
		return -EFAULT;
	out->count++;
	return 0;
}

int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_iova_ranges *cmd = ucmd->cmd;
	struct iova_ranges_out out = {
		.walker.fn = iova_ranges_emit,
		.ranges = u64_to_user_ptr(cmd->allowed_iovas),
		.room = cmd->num_iovas,
	};
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	down_read(&ioas->iopt.iova_rwsem);
	cmd->out_iova_alignment = ioas->iopt.iova_alignment;
	rc = iopt_walk_usable_ranges(&ioas->iopt, &out.walker);
	up_read(&ioas->iopt.iova_rwsem);
	if (rc)
		goto out_put;

	cmd->num_iovas = out.count;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (!rc && out.count > out.room)
		rc = -EMSGSIZE;
out_put:
	iommufd_put_object(&ioas->obj);
	return rc;
}

/* Read the user's ranges into @tree: each start < last, none overlapping. */
static int iommufd_load_ranges(struct rb_root_cached *tree,
			       struct iommu_iova_range __user *uranges, u32 num)
{
	struct iommu_iova_range range;
	struct interval_tree_node *node;
	u32 i;

	for (i = 0; i != num; i++) {
		if (copy_from_user(&range, &uranges[i], sizeof(range)))
			return -EFAULT;
		if (range.start >= range.last || range.last > ULONG_MAX)
			return -EINVAL;
		if (interval_tree_iter_first(tree, range.start, range.last))
			return -EINVAL;

		node = kzalloc(sizeof(*node), GFP_KERNEL_ACCOUNT);
		if (!node)
			return -ENOMEM;
		node->start = range.start;
		node->last = range.last;
		interval_tree_insert(node, tree);
		cond_resched();
	}
	return 0;
}

int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_allow_iovas *cmd = ucmd->cmd;
	struct rb_root_cached allowed = RB_ROOT_CACHED;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	rc = iommufd_load_ranges(&allowed, u64_to_user_ptr(cmd->allowed_iovas),
				 cmd->num_iovas);
	/* On success the IOAS took the new tree and gave back the old one. */
	if (!rc)
		rc = iopt_set_allowed(&ioas->iopt, &allowed);
	iopt_free_ranges(&allowed);
	iommufd_put_object(&ioas->obj);
	return rc;
}

/*
 * The IOMMU must keep DMA coherent with the CPU caches (IOMMU_CACHE): user
 * space has no way to flush them for a device.
 */
static int iommufd_map_prot(u32 flags)
{
	int prot = IOMMU_CACHE;

	if (flags & IOMMU_IOAS_MAP_WRITEABLE)
		prot |= IOMMU_WRITE;
	if (flags & IOMMU_IOAS_MAP_READABLE)
		prot |= IOMMU_READ;
	return prot;
}

/*
 * The checks MAP and COPY share, before any object is looked up: @iova is
 * where to map, @addr the user address or source IOVA.
 */
static int iommufd_check_map_args(u32 flags, u64 length, u64 iova, u64 addr)
{
	if (flags & ~IOMMUFD_MAP_FLAGS)
		return -EOPNOTSUPP;
	if (!(flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;
	if (iova >= ULONG_MAX || length >= ULONG_MAX || addr >= ULONG_MAX)
		return -EOVERFLOW;
	if (!length)
		return -EINVAL;
	return 0;
}

/*
 * Tell user space where a new mapping went.  If that fails, undo it: user
 * space could never name it to unmap it.
 */
static int iommufd_respond_mapped(struct iommufd_ucmd *ucmd, size_t cmd_len,
				  struct io_pagetable *iopt, unsigned long iova,
				  unsigned long length)
{
	int rc = iommufd_ucmd_respond(ucmd, cmd_len);

	if (rc)
		iopt_unmap_iova(iopt, iova, length, NULL);
	return rc;
}

int iommufd_ioas_map(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_map *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	unsigned long iova;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	rc = iommufd_check_map_args(cmd->flags, cmd->length, cmd->iova,
				    cmd->user_va);
	if (rc)
		return rc;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	iova = cmd->iova;
	rc = iopt_map_user_pages(ucmd->ictx, &ioas->iopt, &iova, cmd->user_va,
				 cmd->length, iommufd_map_prot(cmd->flags),
				 cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA);
	if (!rc) {
		cmd->iova = iova;
		rc = iommufd_respond_mapped(ucmd, sizeof(*cmd), &ioas->iopt,
					    iova, cmd->length);
	}
	iommufd_put_object(&ioas->obj);
	return rc;
}

int iommufd_ioas_copy(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_copy *cmd = ucmd->cmd;
	struct iommufd_ioas *src, *dst;
	unsigned long iova;
	int rc;

	rc = iommufd_check_map_args(cmd->flags, cmd->length, cmd->dst_iova,
				    cmd->src_iova);
	if (rc)
		return rc;

	src = iommufd_get_ioas(ucmd->ictx, cmd->src_ioas_id);
	if (IS_ERR(src))
		return PTR_ERR(src);
	dst = iommufd_get_ioas(ucmd->ictx, cmd->dst_ioas_id);
	if (IS_ERR(dst)) {
		rc = PTR_ERR(dst);
		goto out_put_src;
	}

	iova = cmd->dst_iova;
	rc = iopt_copy(&dst->iopt, &src->iopt, &iova, cmd->src_iova,
		       cmd->length, iommufd_map_prot(cmd->flags),
		       cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA);
	if (!rc) {
		cmd->dst_iova = iova;
		rc = iommufd_respond_mapped(ucmd, sizeof(*cmd), &dst->iopt,
					    iova, cmd->length);
	}
	iommufd_put_object(&dst->obj);
out_put_src:
	iommufd_put_object(&src->obj);
	return rc;
}

int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_unmap *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	unsigned long unmapped = 0;
	int rc;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	if (cmd->iova == 0 && cmd->length == U64_MAX) {
		rc = iopt_unmap_all(&ioas->iopt, &unmapped);
	} else if (cmd->iova >= ULONG_MAX || cmd->length >= ULONG_MAX) {
		rc = -EOVERFLOW;
	} else {
		rc = iopt_unmap_iova(&ioas->iopt, cmd->iova, cmd->length,
				     &unmapped);
		if (!rc && !unmapped)
			rc = -ENOENT;
	}
	if (!rc) {
		cmd->length = unmapped;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iommufd_put_object(&ioas->obj);
	return rc;
}

int iommufd_ioas_option(struct iommufd_ucmd *ucmd)
{
	struct iommu_option *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	int rc = 0;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->object_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	switch (cmd->op) {
	case IOMMU_OPTION_OP_GET:
		down_read(&ioas->iopt.iova_rwsem);
		cmd->val64 = !ioas->iopt.disable_large_pages;
		up_read(&ioas->iopt.iova_rwsem);
		break;
	case IOMMU_OPTION_OP_SET:
		if (cmd->val64 > 1)
			rc = -EINVAL;
		else
			rc = iopt_set_large_pages(&ioas->iopt, cmd->val64);
		break;
	default:
		rc = -EOPNOTSUPP;
	}
	iommufd_put_object(&ioas->obj);
	return rc;
}
