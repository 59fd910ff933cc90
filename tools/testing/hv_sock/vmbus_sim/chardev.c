// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/hvsim: the host side for userspace, as documented in hvsim.h. Each
 * open file is a host endpoint that becomes a listener or a connection;
 * accepted connections get anonymous-inode files with the same fops.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "hvsim_internal.h"
#include "hvsim_host.h"

/**
 * struct hvsim_file - one host endpoint
 * @lock: serialises binding the endpoint
 * @conn: connection, once bound as one (never changes afterwards)
 * @listener: listener, once bound as one (never changes afterwards)
 *
 * @conn and @listener are published with a release store and read with
 * acquire loads by the unlocked fops, so a reader that sees the pointer
 * also sees the object it points to.
 */
struct hvsim_file {
	struct mutex lock;	/* binding: LISTEN and CONNECT */
	struct hvsim_conn *conn;
	struct hvsim_listener *listener;
};

static const struct file_operations hvsim_fops;

static struct hvsim_file *hvsim_file_alloc(void)
{
	struct hvsim_file *hf = kzalloc(sizeof(*hf), GFP_KERNEL);

	if (hf)
		mutex_init(&hf->lock);
	return hf;
}

static int hvsim_open(struct inode *inode, struct file *file)
{
	struct hvsim_file *hf = hvsim_file_alloc();

	if (!hf)
		return -ENOMEM;
	file->private_data = hf;
	return stream_open(inode, file);
}

static int hvsim_release(struct inode *inode, struct file *file)
{
	struct hvsim_file *hf = file->private_data;

	if (hf->listener)
		hvsim_host_unlisten(hf->listener);
	if (hf->conn)
		hvsim_host_close(hf->conn);
	mutex_destroy(&hf->lock);
	kfree(hf);
	return 0;
}

static struct hvsim_conn *hvsim_file_conn(struct file *file)
{
	struct hvsim_file *hf = file->private_data;

	/* Pairs with the release in hvsim_ioc_connect(). */
	return smp_load_acquire(&hf->conn);
}

static struct hvsim_listener *hvsim_file_listener(struct file *file)
{
	struct hvsim_file *hf = file->private_data;

	/* Pairs with the release in hvsim_ioc_listen(). */
	return smp_load_acquire(&hf->listener);
}

static bool hvsim_nonblock(struct file *file)
{
	return file->f_flags & O_NONBLOCK;
}

static ssize_t hvsim_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct hvsim_conn *c = hvsim_file_conn(iocb->ki_filp);

	if (!c)
		return -ENOTCONN;
	return hvsim_host_read(c, to, hvsim_nonblock(iocb->ki_filp) ||
			       (iocb->ki_flags & IOCB_NOWAIT));
}

static ssize_t hvsim_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct hvsim_conn *c = hvsim_file_conn(iocb->ki_filp);

	if (!c)
		return -ENOTCONN;
	return hvsim_host_write(c, from, hvsim_nonblock(iocb->ki_filp) ||
				(iocb->ki_flags & IOCB_NOWAIT));
}

static __poll_t hvsim_poll(struct file *file, poll_table *pt)
{
	struct hvsim_listener *l = hvsim_file_listener(file);
	struct hvsim_conn *c = hvsim_file_conn(file);

	if (l) {
		poll_wait(file, hvsim_listener_waitq(l), pt);
		return hvsim_listener_poll(l);
	}
	if (c) {
		poll_wait(file, &c->wq, pt);
		return hvsim_conn_poll(c, poll_requested_events(pt));
	}
	return EPOLLERR;
}

static int hvsim_ioc_listen(struct hvsim_file *hf, void __user *argp)
{
	struct hvsim_listener *l;
	struct hvsim_listen arg;
	guid_t service;
	int ret;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	memcpy(&service, arg.service_id, sizeof(service));

	mutex_lock(&hf->lock);
	if (hf->conn || hf->listener) {
		ret = -EINVAL;
	} else {
		ret = hvsim_host_listen(&service, arg.backlog, arg.flags, &l);
		if (!ret) /* publish it set up to the unlocked fops */
			smp_store_release(&hf->listener, l);
	}
	mutex_unlock(&hf->lock);
	return ret;
}

/* A new file for an accepted connection; the file owns @c. */
static int hvsim_conn_file(struct hvsim_conn *c, u32 flags, struct file **fp)
{
	struct hvsim_file *nhf;
	struct file *file;
	int fd;

	nhf = hvsim_file_alloc();
	if (!nhf)
		return -ENOMEM;
	nhf->conn = c;

	fd = get_unused_fd_flags(flags & HVSIM_FD_CLOEXEC ? O_CLOEXEC : 0);
	if (fd < 0)
		goto err_free;

	file = anon_inode_getfile("[hvsim]", &hvsim_fops, nhf,
				  O_RDWR |
				  (flags & HVSIM_FD_NONBLOCK ? O_NONBLOCK : 0));
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		fd = PTR_ERR(file);
		goto err_free;
	}
	file->f_mode |= FMODE_STREAM;
	*fp = file;
	return fd;

err_free:
	mutex_destroy(&nhf->lock);
	kfree(nhf);
	return fd;
}

static int hvsim_ioc_accept(struct file *file, void __user *argp)
{
	struct hvsim_listener *l = hvsim_file_listener(file);
	struct hvsim_accept arg;
	struct hvsim_conn *c;
	struct file *nfile;
	int ret, fd;

	if (!l)
		return -EINVAL;
	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	if (arg.flags & ~(HVSIM_FD_NONBLOCK | HVSIM_FD_CLOEXEC))
		return -EINVAL;

	ret = hvsim_host_accept(l, hvsim_nonblock(file), &c);
	if (ret)
		return ret;

	fd = hvsim_conn_file(c, arg.flags, &nfile);
	if (fd < 0) {
		hvsim_host_close(c);
		return fd;
	}

	memcpy(arg.guest_service_id, &c->guest_id, 16);
	memcpy(arg.host_service_id, &c->host_id, 16);
	arg.fd = fd;
	if (copy_to_user(argp, &arg, sizeof(arg))) {
		put_unused_fd(fd);
		fput(nfile);
		return -EFAULT;
	}
	fd_install(fd, nfile);
	return 0;
}

static int hvsim_ioc_connect(struct hvsim_file *hf, void __user *argp)
{
	struct hvsim_connect arg;
	guid_t service, endpoint;
	struct hvsim_conn *c;
	int ret;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	memcpy(&service, arg.service_id, sizeof(service));
	memcpy(&endpoint, arg.host_service_id, sizeof(endpoint));

	mutex_lock(&hf->lock);
	if (hf->conn || hf->listener) {
		mutex_unlock(&hf->lock);
		return -EINVAL;
	}
	ret = hvsim_host_connect(&service, &endpoint, arg.timeout_ms,
				 arg.flags | HVSIM_CONNECT_NOWAIT, &c);
	if (!ret) /* publish it set up to the unlocked fops */
		smp_store_release(&hf->conn, c);
	mutex_unlock(&hf->lock);
	if (ret)
		return ret;

	memcpy(arg.host_service_id, &endpoint, sizeof(endpoint));
	if (copy_to_user(argp, &arg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags & HVSIM_CONNECT_NOWAIT)
		return 0;
	return hvsim_host_wait_open(c);
}

static int hvsim_ioc_info(struct file *file, void __user *argp)
{
	struct hvsim_listener *l = hvsim_file_listener(file);
	struct hvsim_conn *c = hvsim_file_conn(file);
	struct hvsim_conn_info info;

	if (c)
		hvsim_host_conn_info(c, &info);
	else if (l)
		hvsim_listener_info(l, &info);
	else
		memset(&info, 0, sizeof(info));
	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

static int hvsim_ioc_inject(struct hvsim_conn *c, void __user *argp)
{
	struct hvsim_inject arg;
	void *buf;
	int ret;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	if (arg.len > HVSIM_MAX_INJECT)
		return -EINVAL;

	buf = kvmalloc(max_t(u32, arg.len, 1), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (copy_from_user(buf, u64_to_user_ptr(arg.data), arg.len))
		ret = -EFAULT;
	else
		ret = hvsim_host_inject(c, &arg, buf);
	kvfree(buf);
	return ret;
}

static int hvsim_ioc_poke(struct hvsim_conn *c, void __user *argp)
{
	struct hvsim_poke arg;
	int ret;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	ret = hvsim_host_poke(c, &arg);
	if (ret)
		return ret;
	return copy_to_user(argp, &arg, sizeof(arg)) ? -EFAULT : 0;
}

static long hvsim_ioc_config(unsigned int cmd, void __user *argp)
{
	struct hvsim_config cfg;
	struct hvsim_stats st;

	switch (cmd) {
	case HVSIM_IOC_GET_CONFIG:
		hvsim_host_get_config(&cfg);
		return copy_to_user(argp, &cfg, sizeof(cfg)) ? -EFAULT : 0;
	case HVSIM_IOC_SET_CONFIG:
		if (copy_from_user(&cfg, argp, sizeof(cfg)))
			return -EFAULT;
		return hvsim_host_set_config(&cfg);
	case HVSIM_IOC_GET_STATS:
		hvsim_host_get_stats(&st);
		return copy_to_user(argp, &st, sizeof(st)) ? -EFAULT : 0;
	}
	return -ENOTTY;
}

static long hvsim_ioc_conn(struct file *file, unsigned int cmd,
			   void __user *argp)
{
	struct hvsim_conn *c = hvsim_file_conn(file);
	u32 val;

	if (!c)
		return -ENOTCONN;

	switch (cmd) {
	case HVSIM_IOC_SHUTDOWN:
		return hvsim_host_shutdown(c, hvsim_nonblock(file));
	case HVSIM_IOC_RESCIND:
		hvsim_host_rescind(c);
		return 0;
	case HVSIM_IOC_STOP_DRAIN:
		if (get_user(val, (u32 __user *)argp))
			return -EFAULT;
		return hvsim_host_set_drain(c, !val);
	case HVSIM_IOC_INJECT:
		return hvsim_ioc_inject(c, argp);
	case HVSIM_IOC_POKE:
		return hvsim_ioc_poke(c, argp);
	}
	return -ENOTTY;
}

static long hvsim_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct hvsim_file *hf = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case HVSIM_IOC_LISTEN:
		return hvsim_ioc_listen(hf, argp);
	case HVSIM_IOC_ACCEPT:
		return hvsim_ioc_accept(file, argp);
	case HVSIM_IOC_CONNECT:
		return hvsim_ioc_connect(hf, argp);
	case HVSIM_IOC_CONN_INFO:
		return hvsim_ioc_info(file, argp);
	case HVSIM_IOC_SHUTDOWN:
	case HVSIM_IOC_RESCIND:
	case HVSIM_IOC_STOP_DRAIN:
	case HVSIM_IOC_INJECT:
	case HVSIM_IOC_POKE:
		return hvsim_ioc_conn(file, cmd, argp);
	default:
		return hvsim_ioc_config(cmd, argp);
	}
}

static const struct file_operations hvsim_fops = {
	.owner		= THIS_MODULE,
	.open		= hvsim_open,
	.release	= hvsim_release,
	.read_iter	= hvsim_read_iter,
	.write_iter	= hvsim_write_iter,
	.poll		= hvsim_poll,
	.unlocked_ioctl	= hvsim_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice hvsim_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "hvsim",
	.fops	= &hvsim_fops,
	.mode	= 0600,
};

int hvsim_chardev_init(void)
{
	return misc_register(&hvsim_misc);
}

void hvsim_chardev_exit(void)
{
	misc_deregister(&hvsim_misc);
}
