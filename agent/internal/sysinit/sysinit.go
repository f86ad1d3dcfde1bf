// Package sysinit does what an init system does before services start:
// mount the kernel filesystems, set the hostname, bring up the network, and
// at the end sync and reboot or power off. It only runs when the agent is
// PID 1.
package sysinit

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"zos-build/agent/internal/clog"
	"zos-build/agent/internal/reaper"
)

// Mount is one filesystem to mount at boot.
type Mount struct {
	Source, Target, Fstype string
	Flags                  uintptr
	Data                   string
	Mode                   os.FileMode
}

const nodev = syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC

// Mounts is the boot mount table, in order.
var Mounts = []Mount{
	{"proc", "/proc", "proc", nodev, "", 0o555},
	{"sysfs", "/sys", "sysfs", nodev, "", 0o555},
	{"devtmpfs", "/dev", "devtmpfs", syscall.MS_NOSUID, "mode=0755", 0o755},
	{"devpts", "/dev/pts", "devpts", syscall.MS_NOSUID | syscall.MS_NOEXEC, "gid=5,mode=0620,ptmxmode=0666", 0o755},
	{"tmpfs", "/dev/shm", "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV, "mode=1777", 0o1777},
	{"tmpfs", "/run", "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV, "mode=0755", 0o755},
	{"tmpfs", "/tmp", "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV, "mode=1777", 0o1777},
	{"cgroup2", "/sys/fs/cgroup", "cgroup2", nodev, "", 0o555},
}

// MountAll mounts the table, skipping targets that are already mount
// points. Failures are logged; boot goes on.
func MountAll() {
	for _, m := range Mounts {
		if err := os.MkdirAll(m.Target, m.Mode); err != nil {
			clog.Warnf("mkdir %s: %v", m.Target, err)
		}
		if IsMountPoint(m.Target) {
			clog.Debugf("%s already mounted", m.Target)
			continue
		}
		if err := syscall.Mount(m.Source, m.Target, m.Fstype, m.Flags, m.Data); err != nil {
			if err == syscall.EBUSY {
				continue
			}
			clog.Warnf("mount %s on %s: %v", m.Fstype, m.Target, err)
		}
	}
	// Conventional links some programs expect.
	for link, target := range map[string]string{"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0",
		"/dev/stdout": "/proc/self/fd/1", "/dev/stderr": "/proc/self/fd/2"} {
		if _, err := os.Lstat(link); os.IsNotExist(err) {
			os.Symlink(target, link)
		}
	}
}

// IsMountPoint compares the device of path with its parent's; "/" and bind
// mounts of the same device are not detected, which is fine for this table.
func IsMountPoint(path string) bool {
	var st, pst syscall.Stat_t
	if syscall.Stat(path, &st) != nil || syscall.Stat(filepath.Dir(path), &pst) != nil {
		return false
	}
	return st.Dev != pst.Dev
}

// sysClassNet is where the kernel lists network interfaces (a test points it elsewhere).
var sysClassNet = "/sys/class/net"

// physical reports whether an interface is backed by a device (a NIC on a bus). Bridges, veths,
// bonds, VLANs and tunnels that commands create have no device link: DHCP on them would flush the
// static addresses their creator gave them.
func physical(name string) bool {
	_, err := os.Stat(filepath.Join(sysClassNet, name, "device"))
	return err == nil
}

// NICs returns the physical interfaces (not lo, not software interfaces), sorted by name.
func NICs() []net.Interface {
	ifs, _ := net.Interfaces()
	var out []net.Interface
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback != 0 || len(i.HardwareAddr) == 0 || !physical(i.Name) {
			continue
		}
		out = append(out, i)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// DefaultHostname is "zos-" + the first NIC's MAC without colons, or "zos"
// when there is no NIC.
func DefaultHostname(nics []net.Interface) string {
	for _, n := range nics {
		return "zos-" + strings.ReplaceAll(n.HardwareAddr.String(), ":", "")
	}
	return "zos"
}

// SetHostname sets the kernel hostname and writes /etc/hostname.
func SetHostname(name string) error {
	if err := syscall.Sethostname([]byte(name)); err != nil {
		return err
	}
	os.WriteFile("/etc/hostname", []byte(name+"\n"), 0o644)
	return nil
}

// UdhcpcScript is run by busybox udhcpc on lease events. It configures the
// address, the default routes and /etc/resolv.conf.
const UdhcpcScript = `#!/bin/sh
# written by core0: udhcpc event handler
RESOLV=/etc/resolv.conf
# Every ip costs a process (tens of milliseconds on an emulated CPU), and bound comes right after
# deconfig, which left the interface (set up by core0) without addresses or routes: bound only
# adds; renew first clears what the previous lease set.
case "$1" in
deconfig)
	ip -4 addr flush dev "$interface"
	;;
renew|bound)
	if [ "$1" = renew ]; then
		ip -4 addr flush dev "$interface"
		while ip -4 route del default dev "$interface" 2>/dev/null; do :; done
	fi
	ip -4 addr replace "$ip/${mask:-24}" ${broadcast:+broadcast "$broadcast"} dev "$interface"
	[ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
	metric=0
	for r in $router; do
		ip -4 route replace default via "$r" dev "$interface" metric "$metric"
		metric=$((metric + 1))
	done
	if [ -n "$dns" ]; then
		tmp="$RESOLV.$interface.$$"
		: > "$tmp"
		[ -n "$domain" ] && echo "search $domain" >> "$tmp"
		for s in $dns; do echo "nameserver $s" >> "$tmp"; done
		mv "$tmp" "$RESOLV"
	fi
	echo "udhcpc: $interface $1 $ip/${mask:-24} router=${router:-none} dns=${dns:-none}"
	;;
leasefail|nak)
	echo "udhcpc: $interface $1"
	;;
esac
exit 0
`

const toolPath = "/sbin:/usr/sbin:/bin:/usr/bin"

// tool finds a busybox applet (or a full tool) by name.
func tool(name string) string {
	for _, dir := range filepath.SplitList(toolPath) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return "/sbin/" + name
}

// Network brings up lo and every NIC and starts a DHCP client per NIC. It
// returns at once; DHCP runs (and is retried) in the background.
type Network struct {
	Reaper     *reaper.Reaper
	ScriptPath string // e.g. /run/udhcpc.script
	Hostname   string
	stop       chan struct{}
}

// Start writes the udhcpc script and launches the background work.
func (n *Network) Start() error {
	n.stop = make(chan struct{})
	if err := os.MkdirAll(filepath.Dir(n.ScriptPath), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(n.ScriptPath, []byte(UdhcpcScript), 0o755); err != nil {
		return err
	}
	if _, err := os.Stat("/etc/resolv.conf"); os.IsNotExist(err) {
		os.WriteFile("/etc/resolv.conf", nil, 0o644)
	}
	if err := LinkUp("lo"); err != nil {
		clog.Warnf("network: lo: %v", err)
	}
	clog.Go("network", func() { clog.Forever("network", 5*time.Second, n.loop) })
	return nil
}

// Stop stops starting new DHCP clients.
func (n *Network) Stop() {
	if n.stop != nil {
		select {
		case <-n.stop:
		default:
			close(n.stop)
		}
	}
}

// Ioctl is ioctl(2): its result, and the errno (0 on success).
func Ioctl(fd, req, arg uintptr) (uintptr, syscall.Errno) {
	r, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, req, arg)
	return r, errno
}

// LinkUp sets a network interface up (`ip link set NAME up`) with two ioctls, not a process: at
// boot, on an emulated CPU, each process costs tens of milliseconds.
func LinkUp(name string) error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	// struct ifreq: the name, then a union whose first member here is the flags.
	var ifr struct {
		Name  [syscall.IFNAMSIZ]byte
		Flags uint16
		_     [22]byte
	}
	if len(name) >= len(ifr.Name) {
		return fmt.Errorf("interface name %q too long", name)
	}
	copy(ifr.Name[:], name)
	for _, req := range []uintptr{syscall.SIOCGIFFLAGS, syscall.SIOCSIFFLAGS} {
		if req == syscall.SIOCSIFFLAGS {
			ifr.Flags |= syscall.IFF_UP
		}
		if _, errno := Ioctl(uintptr(fd), req, uintptr(unsafe.Pointer(&ifr))); errno != 0 {
			return errno
		}
	}
	return nil
}

// loop starts a udhcpc per NIC and restarts it if it exits; it also picks
// up NICs whose driver loads late.
func (n *Network) loop() {
	running := map[string]bool{}
	exited := make(chan string, 16)
	backoff := map[string]time.Time{}
	for {
		for _, nic := range NICs() {
			name := nic.Name
			if running[name] || time.Now().Before(backoff[name]) {
				continue
			}
			if err := LinkUp(name); err != nil {
				clog.Warnf("network: %s: %v", name, err)
			}
			argv := []string{"udhcpc", "-f", "-i", name, "-s", n.ScriptPath, "-t", "5", "-T", "3", "-A", "10"}
			if n.Hostname != "" {
				argv = append(argv, "-x", "hostname:"+n.Hostname)
			}
			devnull, _ := os.Open(os.DevNull)
			_, ch, err := n.Reaper.Start(tool("udhcpc"), argv, &os.ProcAttr{
				Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, Files: []*os.File{devnull, os.Stdout, os.Stdout},
			})
			devnull.Close()
			if err != nil {
				clog.Errorf("network: cannot start udhcpc on %s: %v", name, err)
				backoff[name] = time.Now().Add(30 * time.Second)
				continue
			}
			clog.Infof("network: DHCP client started on %s", name)
			running[name] = true
			go func() {
				ex := <-ch
				clog.Warnf("network: udhcpc on %s exited (code %d)", name, ex.Code())
				exited <- name
			}()
		}
		select {
		case name := <-exited:
			running[name] = false
			backoff[name] = time.Now().Add(10 * time.Second)
		case <-time.After(10 * time.Second):
		case <-n.stop:
			return
		}
	}
}

// Halt syncs the disks and reboots or powers off. It only returns on error.
func Halt(poweroff bool) error {
	syscall.Sync()
	cmd := syscall.LINUX_REBOOT_CMD_RESTART
	if poweroff {
		cmd = syscall.LINUX_REBOOT_CMD_POWER_OFF
	}
	// Give the console a moment to drain.
	time.Sleep(200 * time.Millisecond)
	return syscall.Reboot(cmd)
}

// KillAll sends sig to every process except ourselves (used before halt to
// stop leftovers such as udhcpc).
func KillAll(sig syscall.Signal) {
	syscall.Kill(-1, sig)
}
