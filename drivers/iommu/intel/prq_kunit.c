// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of VT-d's SVM checks, without hardware page requests:
 *
 * - intel_iommu_prq: which page request descriptors the PRQ thread answers
 *   invalid, drops (Stop Markers) or reports; the page group response it
 *   builds for them; the access each asks for and the handle_mm_fault()
 *   flags the fault then uses.
 * - intel_iommu_pasid_entry: the capability checks before a first-level
 *   PASID entry is set up, and every bit of the entry.
 *
 * Expected values are written from the VT-d specification's bit positions
 * (rev. 4.0, 9.6 "Scalable-Mode PASID Table Entry" and 6.5.2.14 "Page Group
 * Response Descriptor"), not from the driver's macros.
 */
#include <kunit/test.h>
#include <linux/mm.h>

#include "../iommu-sva-lib.h"
#include "iommu.h"
#include "pasid.h"

/* A read of user address 0x7f0000001000 by PASID 5, last of group 3 */
static struct page_req_dsc good_req(void)
{
	struct page_req_dsc req = {};

	req.pasid_present = 1;
	req.pasid = 5;
	req.rid = 0x0100;
	req.rd_req = 1;
	req.lpig = 1;
	req.prg_index = 3;
	req.addr = 0x7f0000001000ULL >> 12;
	return req;
}

static void prq_test_verdicts(struct kunit *test)
{
	struct page_req_dsc req;
	const char *why = NULL;

	req = good_req();
	KUNIT_EXPECT_EQ(test, intel_svm_prq_check(&req, &why), INTEL_PRQ_HANDLE);
	req.rd_req = 0;
	req.wr_req = 1;
	KUNIT_EXPECT_EQ(test, intel_svm_prq_check(&req, &why), INTEL_PRQ_HANDLE);

	req = good_req();
	req.pasid_present = 0;
	KUNIT_EXPECT_EQ(test, intel_svm_prq_check(&req, &why), INTEL_PRQ_INVALID);
	KUNIT_EXPECT_STREQ(test, why, "Page request without PASID");

	/* Bit 62 set, 63 clear: canonical with neither 4 nor 5 levels */
	req = good_req();
	req.addr = (1ULL << 62) >> 12;
	KUNIT_EXPECT_EQ(test, intel_svm_prq_check(&req, &why), INTEL_PRQ_INVALID);
	KUNIT_EXPECT_STREQ(test, why, "Address is not canonical");
	req.addr = 0xffff800000000000ULL >> 12;
	KUNIT_EXPECT_EQ(test, intel_svm_prq_check(&req, &why), INTEL_PRQ_HANDLE);
}

static void prq_test_privilege_and_exec(struct kunit *test)
{
	struct page_req_dsc req;
	const char *why = NULL;

	/* Privilege mode with a read or a write: init_mm never faults */
	req = good_req();
	req.pm_req = 1;
	KUNIT_EXPECT_EQ(test, intel_svm_prq_check(&req, &why), INTEL_PRQ_INVALID);
	KUNIT_EXPECT_STREQ(test, why, "Page request in Privilege Mode");
	req.rd_req = 0;
	req.wr_req = 1;
	KUNIT_EXPECT_EQ(test, intel_svm_prq_check(&req, &why), INTEL_PRQ_INVALID);
	/* Privilege mode alone, not last of its group: reported */
	req.wr_req = 0;
	req.lpig = 0;
	KUNIT_EXPECT_EQ(test, intel_svm_prq_check(&req, &why), INTEL_PRQ_HANDLE);

	/* Execute with read is not supported; execute alone is */
	req = good_req();
	req.exe_req = 1;
	KUNIT_EXPECT_EQ(test, intel_svm_prq_check(&req, &why), INTEL_PRQ_INVALID);
	KUNIT_EXPECT_STREQ(test, why, "Execution request not supported");
	req.rd_req = 0;
	req.lpig = 0;
	KUNIT_EXPECT_EQ(test, intel_svm_prq_check(&req, &why), INTEL_PRQ_HANDLE);
}

static void prq_test_stop_marker(struct kunit *test)
{
	struct page_req_dsc req = good_req();
	const char *why = NULL;

	/* Last of its group, neither read nor write: a Stop Marker */
	req.rd_req = 0;
	KUNIT_EXPECT_EQ(test, intel_svm_prq_check(&req, &why), INTEL_PRQ_DROP);
	/* Not last of its group: an ordinary request */
	req.lpig = 0;
	KUNIT_EXPECT_EQ(test, intel_svm_prq_check(&req, &why), INTEL_PRQ_HANDLE);
}

static void prq_test_response(struct kunit *test)
{
	struct page_req_dsc req = good_req();
	struct qi_desc desc;

	memset(&desc, 0xa5, sizeof(desc));
	KUNIT_ASSERT_TRUE(test, intel_svm_prq_response(&req, QI_RESP_INVALID,
						       &desc));
	/* Type 9, PASID present, response code 1 (Invalid), RID, PASID */
	KUNIT_EXPECT_EQ(test, desc.qw0 & 0xf, 0x9ULL);
	KUNIT_EXPECT_EQ(test, (desc.qw0 >> 4) & 1, 1ULL);
	KUNIT_EXPECT_EQ(test, (desc.qw0 >> 5) & 1, 0ULL);
	KUNIT_EXPECT_EQ(test, (desc.qw0 >> 12) & 0xf, 1ULL);
	KUNIT_EXPECT_EQ(test, (desc.qw0 >> 16) & 0xffff, 0x0100ULL);
	KUNIT_EXPECT_EQ(test, (desc.qw0 >> 32) & 0xfffff, 5ULL);
	/* Last page in group, group index */
	KUNIT_EXPECT_EQ(test, (desc.qw1 >> 2) & 1, 1ULL);
	KUNIT_EXPECT_EQ(test, (desc.qw1 >> 3) & 0x1ff, 3ULL);
	KUNIT_EXPECT_EQ(test, desc.qw2, 0ULL);
	KUNIT_EXPECT_EQ(test, desc.qw3, 0ULL);

	/* Private data comes back, and makes an answer due by itself */
	req.lpig = 0;
	req.priv_data_present = 1;
	req.priv_data[0] = 0x1122334455667788ULL;
	req.priv_data[1] = 0x99aabbccddeeff00ULL;
	KUNIT_ASSERT_TRUE(test, intel_svm_prq_response(&req, QI_RESP_INVALID,
						       &desc));
	KUNIT_EXPECT_EQ(test, (desc.qw0 >> 5) & 1, 1ULL);
	KUNIT_EXPECT_EQ(test, (desc.qw1 >> 2) & 1, 0ULL);
	KUNIT_EXPECT_EQ(test, desc.qw2, req.priv_data[0]);
	KUNIT_EXPECT_EQ(test, desc.qw3, req.priv_data[1]);

	/* Neither: no answer at all */
	req.priv_data_present = 0;
	KUNIT_EXPECT_FALSE(test, intel_svm_prq_response(&req, QI_RESP_INVALID,
							&desc));
}

static void prq_test_fault_flags(struct kunit *test)
{
	struct page_req_dsc req = good_req();
	unsigned long access;
	unsigned int flags;
	int perm;

	perm = intel_svm_prq_perm(&req);
	KUNIT_EXPECT_EQ(test, perm, IOMMU_FAULT_PERM_READ);
	flags = iopf_fault_flags(perm, &access);
	KUNIT_EXPECT_EQ(test, flags, FAULT_FLAG_USER | FAULT_FLAG_REMOTE);
	KUNIT_EXPECT_EQ(test, access, (unsigned long)VM_READ);

	req.wr_req = 1;
	perm = intel_svm_prq_perm(&req);
	KUNIT_EXPECT_EQ(test, perm,
			IOMMU_FAULT_PERM_READ | IOMMU_FAULT_PERM_WRITE);
	flags = iopf_fault_flags(perm, &access);
	KUNIT_EXPECT_EQ(test, flags, FAULT_FLAG_USER | FAULT_FLAG_REMOTE |
			FAULT_FLAG_WRITE);
	KUNIT_EXPECT_EQ(test, access, (unsigned long)(VM_READ | VM_WRITE));

	req.rd_req = 0;
	req.wr_req = 0;
	req.exe_req = 1;
	perm = intel_svm_prq_perm(&req);
	KUNIT_EXPECT_EQ(test, perm, IOMMU_FAULT_PERM_EXEC);
	flags = iopf_fault_flags(perm, &access);
	KUNIT_EXPECT_EQ(test, flags, FAULT_FLAG_USER | FAULT_FLAG_REMOTE |
			FAULT_FLAG_INSTRUCTION);
	KUNIT_EXPECT_EQ(test, access, (unsigned long)VM_EXEC);

	/* Privilege mode: not a user fault, still remote */
	req.exe_req = 0;
	req.pm_req = 1;
	perm = intel_svm_prq_perm(&req);
	KUNIT_EXPECT_EQ(test, perm, IOMMU_FAULT_PERM_PRIV);
	flags = iopf_fault_flags(perm, &access);
	KUNIT_EXPECT_EQ(test, flags, FAULT_FLAG_REMOTE);
	KUNIT_EXPECT_EQ(test, access, 0UL);
}

static struct kunit_case prq_test_cases[] = {
	KUNIT_CASE(prq_test_verdicts),
	KUNIT_CASE(prq_test_privilege_and_exec),
	KUNIT_CASE(prq_test_stop_marker),
	KUNIT_CASE(prq_test_response),
	KUNIT_CASE(prq_test_fault_flags),
	{}
};

static struct kunit_suite prq_test_suite = {
	.name = "intel_iommu_prq",
	.test_cases = prq_test_cases,
};

/* ECAP: FLTS bit 47, SRS bit 31; CAP: FL5LP bit 60 */
#define ECAP_FLTS	BIT_ULL(47)
#define ECAP_SRS	BIT_ULL(31)
#define CAP_FL5LP	BIT_ULL(60)

static void pasid_test_checks(struct kunit *test)
{
	const char *why = NULL;

	KUNIT_EXPECT_EQ(test, intel_pasid_fl_check(0, 0, 0, true, &why),
			-EINVAL);
	KUNIT_EXPECT_STREQ(test, why, "No first level translation support");
	KUNIT_EXPECT_EQ(test, intel_pasid_fl_check(0, ECAP_FLTS, 0, true, &why),
			0);
	/* CR0.WP matters for supervisor entries only */
	KUNIT_EXPECT_EQ(test, intel_pasid_fl_check(0, ECAP_FLTS, 0, false,
						   &why), 0);

	KUNIT_EXPECT_EQ(test, intel_pasid_fl_check(0, ECAP_FLTS,
						   PASID_FLAG_SUPERVISOR_MODE,
						   true, &why), -EINVAL);
	KUNIT_EXPECT_STREQ(test, why, "No supervisor request support");
	KUNIT_EXPECT_EQ(test, intel_pasid_fl_check(0, ECAP_FLTS | ECAP_SRS,
						   PASID_FLAG_SUPERVISOR_MODE,
						   false, &why), -EINVAL);
	KUNIT_EXPECT_STREQ(test, why, "No CPU write protect");
	KUNIT_EXPECT_EQ(test, intel_pasid_fl_check(0, ECAP_FLTS | ECAP_SRS,
						   PASID_FLAG_SUPERVISOR_MODE,
						   true, &why), 0);

	KUNIT_EXPECT_EQ(test, intel_pasid_fl_check(0, ECAP_FLTS,
						   PASID_FLAG_FL5LP, true,
						   &why), -EINVAL);
	KUNIT_EXPECT_STREQ(test, why,
			   "No 5-level paging support for first-level");
	KUNIT_EXPECT_EQ(test, intel_pasid_fl_check(CAP_FL5LP, ECAP_FLTS,
						   PASID_FLAG_FL5LP, true,
						   &why), 0);
}

#define FLPTR	0x0000001234567000ULL

static void pasid_test_user_entry(struct kunit *test)
{
	struct pasid_entry pte = {};
	int i;

	intel_pasid_fl_fill(&pte, FLPTR, 0x2a, 2, true, 0);
	/* AW (4:2) = 2, PGTT (8:6) = 1: first level only; not present yet */
	KUNIT_EXPECT_EQ(test, pte.val[0], (2ULL << 2) | (1ULL << 6));
	/* DID (79:64), PWSNP (87) */
	KUNIT_EXPECT_EQ(test, pte.val[1], 0x2aULL | BIT_ULL(23));
	/* NXE (133), FLPTR (191:140); no SRE (128), FLPM (131:130), WPE */
	KUNIT_EXPECT_EQ(test, pte.val[2], FLPTR | BIT_ULL(5));
	for (i = 3; i < 8; i++)
		KUNIT_EXPECT_EQ(test, pte.val[i], 0ULL);

	memset(&pte, 0, sizeof(pte));
	intel_pasid_fl_fill(&pte, FLPTR, 1, 3, false, 0);
	KUNIT_EXPECT_EQ(test, pte.val[1], 1ULL);
	KUNIT_EXPECT_EQ(test, (pte.val[0] >> 2) & 7, 3ULL);
}

static void pasid_test_supervisor_entry(struct kunit *test)
{
	struct pasid_entry pte = {};

	intel_pasid_fl_fill(&pte, FLPTR, 1, 2, true,
			    PASID_FLAG_SUPERVISOR_MODE);
	/* SRE (128) and WPE (132) */
	KUNIT_EXPECT_EQ(test, pte.val[2],
			FLPTR | BIT_ULL(5) | BIT_ULL(4) | BIT_ULL(0));
}

static void pasid_test_paging_and_snoop(struct kunit *test)
{
	struct pasid_entry pte = {};

	intel_pasid_fl_fill(&pte, FLPTR, 1, 2, true,
			    PASID_FLAG_FL5LP | PASID_FLAG_PAGE_SNOOP);
	/* FLPM (131:130) = 1: 5-level paging */
	KUNIT_EXPECT_EQ(test, (pte.val[2] >> 2) & 3, 1ULL);
	KUNIT_EXPECT_EQ(test, pte.val[2] & (BIT_ULL(0) | BIT_ULL(4)), 0ULL);
	/* PGSNP (88) */
	KUNIT_EXPECT_EQ(test, pte.val[1], 1ULL | BIT_ULL(23) | BIT_ULL(24));
}

static struct kunit_case pasid_test_cases[] = {
	KUNIT_CASE(pasid_test_checks),
	KUNIT_CASE(pasid_test_user_entry),
	KUNIT_CASE(pasid_test_supervisor_entry),
	KUNIT_CASE(pasid_test_paging_and_snoop),
	{}
};

static struct kunit_suite pasid_test_suite = {
	.name = "intel_iommu_pasid_entry",
	.test_cases = pasid_test_cases,
};

kunit_test_suites(&prq_test_suite, &pasid_test_suite);

MODULE_LICENSE("GPL");
