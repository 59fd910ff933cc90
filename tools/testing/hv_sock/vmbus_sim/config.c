// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host configuration: personality (which Windows host is simulated), MTU,
 * timeouts and the one-shot fault counters.
 */
#include <linux/moduleparam.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "hvsim_internal.h"
#include "hvsim_host.h"

/* Negotiated VMBus version, as drivers/hv/connection.c exports it. */
__u32 vmbus_proto_version = VERSION_WIN10;
EXPORT_SYMBOL_GPL(vmbus_proto_version);

#define HVSIM_MAX_OPEN_TIMEOUT_MS	3600000U
#define HVSIM_WS2016_RING_BYTES		(6 * HV_HYP_PAGE_SIZE)
#define HVSIM_MODERN_MIN_RING_PAGES	2
#define HVSIM_MODERN_MAX_RING_PAGES	65

static DEFINE_SPINLOCK(hvsim_cfg_lock);
static struct hvsim_config hvsim_cfg = {
	.personality = HVSIM_PERSONALITY_WS2016,
	.mtu = HVSIM_DEFAULT_MTU,
	.open_timeout_ms = HVSIM_DEFAULT_OPEN_TIMEOUT_MS,
};

static const char * const hvsim_personality_names[] = {
	[HVSIM_PERSONALITY_WS2016] = "ws2016",
	[HVSIM_PERSONALITY_MODERN] = "modern",
};

static u32 hvsim_personality_version(u32 personality)
{
	return personality == HVSIM_PERSONALITY_MODERN ?
		VERSION_WIN10_V5_2 : VERSION_WIN10;
}

static void hvsim_apply_personality(u32 personality)
{
	lockdep_assert_held(&hvsim_cfg_lock);
	hvsim_cfg.personality = personality;
	WRITE_ONCE(vmbus_proto_version, hvsim_personality_version(personality));
}

static int hvsim_personality_set(const char *val, const struct kernel_param *kp)
{
	int i;

	i = sysfs_match_string(hvsim_personality_names, val);
	if (i < 0)
		return -EINVAL;

	spin_lock(&hvsim_cfg_lock);
	hvsim_apply_personality(i);
	spin_unlock(&hvsim_cfg_lock);
	return 0;
}

static int hvsim_personality_get(char *buf, const struct kernel_param *kp)
{
	u32 p = READ_ONCE(hvsim_cfg.personality);

	return sysfs_emit(buf, "%s\n", hvsim_personality_names[p]);
}

static const struct kernel_param_ops hvsim_personality_ops = {
	.set = hvsim_personality_set,
	.get = hvsim_personality_get,
};

module_param_cb(personality, &hvsim_personality_ops, NULL, 0644);
MODULE_PARM_DESC(personality,
		 "simulated host: ws2016 (VMBus 4.0, 5-page rings only; default) or modern (VMBus 5.2, rings up to 64 pages)");

/**
 * hvsim_ring_sizes_ok() - does the simulated host accept these rings?
 * @send_bytes: guest's outbound ring size as passed to vmbus_open()
 * @recv_bytes: guest's inbound ring size as passed to vmbus_open()
 *
 * Return: true if the personality accepts both sizes.
 */
bool hvsim_ring_sizes_ok(u32 send_bytes, u32 recv_bytes)
{
	u32 sp = send_bytes / HV_HYP_PAGE_SIZE, rp = recv_bytes / HV_HYP_PAGE_SIZE;

	if (READ_ONCE(hvsim_cfg.personality) == HVSIM_PERSONALITY_WS2016)
		return send_bytes == HVSIM_WS2016_RING_BYTES &&
		       recv_bytes == HVSIM_WS2016_RING_BYTES;

	return sp >= HVSIM_MODERN_MIN_RING_PAGES &&
	       sp <= HVSIM_MODERN_MAX_RING_PAGES &&
	       rp >= HVSIM_MODERN_MIN_RING_PAGES &&
	       rp <= HVSIM_MODERN_MAX_RING_PAGES;
}

u32 hvsim_cfg_mtu(void)
{
	return READ_ONCE(hvsim_cfg.mtu);
}

u32 hvsim_cfg_offer_delay_ms(void)
{
	return READ_ONCE(hvsim_cfg.offer_delay_ms);
}

u32 hvsim_cfg_open_timeout_ms(void)
{
	return READ_ONCE(hvsim_cfg.open_timeout_ms);
}

/* Take one from a fault counter; HVSIM_FOREVER never runs out. */
static bool hvsim_take(u32 *counter)
{
	bool hit;

	spin_lock(&hvsim_cfg_lock);
	hit = *counter != 0;
	if (hit && *counter != HVSIM_FOREVER)
		(*counter)--;
	spin_unlock(&hvsim_cfg_lock);
	return hit;
}

/**
 * hvsim_fault_take_ignore_connect() - consume the ignore_connects fault
 *
 * Return: true if this guest connect request must be dropped.
 */
bool hvsim_fault_take_ignore_connect(void)
{
	return hvsim_take(&hvsim_cfg.ignore_connects);
}

/**
 * hvsim_fault_take_fail_open() - consume the fail_opens fault
 *
 * Return: true if this vmbus_open() must be refused.
 */
bool hvsim_fault_take_fail_open(void)
{
	return hvsim_take(&hvsim_cfg.fail_opens);
}

/**
 * hvsim_host_get_config() - read the host configuration
 * @cfg: out: configuration, vmbus_version filled in
 */
void hvsim_host_get_config(struct hvsim_config *cfg)
{
	spin_lock(&hvsim_cfg_lock);
	*cfg = hvsim_cfg;
	spin_unlock(&hvsim_cfg_lock);
	cfg->vmbus_version = READ_ONCE(vmbus_proto_version);
}
EXPORT_SYMBOL_GPL(hvsim_host_get_config);

static int hvsim_config_check(const struct hvsim_config *cfg)
{
	if (cfg->personality > HVSIM_PERSONALITY_MODERN)
		return -EINVAL;
	if (cfg->mtu > HVSIM_MTU_MAX)
		return -EINVAL;
	if (cfg->offer_delay_ms > HVSIM_MAX_OFFER_DELAY_MS)
		return -EINVAL;
	if (cfg->open_timeout_ms > HVSIM_MAX_OPEN_TIMEOUT_MS)
		return -EINVAL;
	if (cfg->flags || memchr_inv(cfg->reserved, 0, sizeof(cfg->reserved)))
		return -EINVAL;
	return 0;
}

/**
 * hvsim_host_set_config() - replace the host configuration
 * @cfg: new configuration; mtu 0 and open_timeout_ms 0 select defaults,
 *	vmbus_version is ignored
 *
 * Return: 0 or -EINVAL.
 */
int hvsim_host_set_config(const struct hvsim_config *cfg)
{
	int ret = hvsim_config_check(cfg);

	if (ret)
		return ret;

	spin_lock(&hvsim_cfg_lock);
	hvsim_apply_personality(cfg->personality);
	WRITE_ONCE(hvsim_cfg.mtu, cfg->mtu ?: HVSIM_DEFAULT_MTU);
	WRITE_ONCE(hvsim_cfg.offer_delay_ms, cfg->offer_delay_ms);
	WRITE_ONCE(hvsim_cfg.open_timeout_ms,
		   cfg->open_timeout_ms ?: HVSIM_DEFAULT_OPEN_TIMEOUT_MS);
	hvsim_cfg.ignore_connects = cfg->ignore_connects;
	hvsim_cfg.fail_opens = cfg->fail_opens;
	spin_unlock(&hvsim_cfg_lock);
	return 0;
}
EXPORT_SYMBOL_GPL(hvsim_host_set_config);

/**
 * hvsim_host_get_stats() - read the global counters
 * @st: out: counters
 */
void hvsim_host_get_stats(struct hvsim_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->connect_requests = atomic64_read(&hvsim_counters.connect_requests);
	st->connects_ignored = atomic64_read(&hvsim_counters.connects_ignored);
	st->connects_unanswered =
		atomic64_read(&hvsim_counters.connects_unanswered);
	st->offers = atomic64_read(&hvsim_counters.offers);
	st->opens = atomic64_read(&hvsim_counters.opens);
	st->opens_refused = atomic64_read(&hvsim_counters.opens_refused);
	st->rescinds = atomic64_read(&hvsim_counters.rescinds);
	st->guest_closes = atomic64_read(&hvsim_counters.guest_closes);
	st->channels = atomic64_read(&hvsim_counters.channels);
	st->probes_declined = atomic64_read(&hvsim_counters.probes_declined);
}
EXPORT_SYMBOL_GPL(hvsim_host_get_stats);
