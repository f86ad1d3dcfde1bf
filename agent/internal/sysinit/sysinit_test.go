package sysinit

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
)

func TestDefaultHostname(t *testing.T) {
	mac, _ := net.ParseMAC("52:54:00:12:34:56")
	if got := DefaultHostname([]net.Interface{{Name: "eth0", HardwareAddr: mac}}); got != "zos-525400123456" {
		t.Fatal(got)
	}
	if got := DefaultHostname(nil); got != "zos" {
		t.Fatal(got)
	}
}

func TestUdhcpcScriptParses(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	p := filepath.Join(t.TempDir(), "udhcpc.script")
	os.WriteFile(p, []byte(UdhcpcScript), 0o755)
	if out, err := exec.Command(sh, "-n", p).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
}

func TestIsMountPoint(t *testing.T) {
	if !IsMountPoint("/proc") {
		t.Skip("/proc is not a separate mount here")
	}
	if IsMountPoint(t.TempDir()) {
		t.Fatal("temp dir reported as mount point")
	}
}

// Only interfaces with a device behind them get DHCP: a bridge or veth made by bridge.create or a
// container has none, and udhcpc's deconfig would flush the static address it was given.
func TestPhysicalNeedsADevice(t *testing.T) {
	old := sysClassNet
	defer func() { sysClassNet = old }()
	sysClassNet = t.TempDir()
	for _, dir := range []string{"eth0/device", "zbr0/bridge", "vc1n0"} {
		if err := os.MkdirAll(filepath.Join(sysClassNet, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]bool{"eth0": true, "zbr0": false, "vc1n0": false, "gone": false} {
		if got := physical(name); got != want {
			t.Errorf("physical(%q) = %v, want %v", name, got, want)
		}
	}
}

// LinkUp in a network namespace of its own, whose loopback starts down.
func TestLinkUp(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("a network namespace needs root")
	}
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread, in its own namespace, ends with this goroutine.
		runtime.LockOSThread()
		if err := syscall.Unshare(syscall.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		if lo, _ := net.InterfaceByName("lo"); lo == nil || lo.Flags&net.FlagUp != 0 {
			errc <- fmt.Errorf("a new namespace's lo should be down: %+v", lo)
			return
		}
		if err := LinkUp("lo"); err != nil {
			errc <- err
			return
		}
		if lo, _ := net.InterfaceByName("lo"); lo == nil || lo.Flags&net.FlagUp == 0 {
			errc <- fmt.Errorf("lo is still down: %+v", lo)
			return
		}
		if err := LinkUp("nosuchnic0"); err == nil {
			errc <- fmt.Errorf("LinkUp of a missing interface succeeded")
			return
		}
		errc <- nil
	}()
	if err := <-errc; err != nil {
		if err == syscall.EPERM {
			t.Skip("no permission to unshare the network namespace")
		}
		t.Fatal(err)
	}
}

// The udhcpc script run by a real sh against a real interface (lo of a network namespace of its
// own; no dns, so /etc/resolv.conf is left alone): bound adds the lease's address and default
// route, renew replaces them with the new lease's.
func TestUdhcpcScriptConfigures(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("a network namespace needs root")
	}
	for _, tool := range []string{"unshare", "ip", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(tool + " not installed")
		}
	}
	if out, err := exec.Command("unshare", "--net", "true").CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace here: %v: %s", err, out)
	}
	script := filepath.Join(t.TempDir(), "udhcpc.script")
	os.WriteFile(script, []byte(UdhcpcScript), 0o755)
	out, err := exec.Command("unshare", "--net", "sh", "-c", `set -e
		ip link set lo up
		export interface=lo mask=24
		ip=10.9.8.7 router=10.9.8.1 sh "$0" deconfig
		ip=10.9.8.7 router=10.9.8.1 sh "$0" bound
		ip -4 -o addr show dev lo | awk '{print "addr", $4}'
		ip -4 route show default
		ip=10.9.8.9 router="10.9.8.1 10.9.8.2" sh "$0" renew
		ip -4 -o addr show dev lo | awk '{print "addr", $4}'
		ip -4 route show default`, script).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := "udhcpc: lo bound 10.9.8.7/24 router=10.9.8.1 dns=none\n" +
		"addr 10.9.8.7/24\n" +
		"default via 10.9.8.1 dev lo \n" +
		"udhcpc: lo renew 10.9.8.9/24 router=10.9.8.1 10.9.8.2 dns=none\n" +
		"addr 10.9.8.9/24\n" +
		"default via 10.9.8.1 dev lo \n" +
		"default via 10.9.8.2 dev lo metric 1 \n"
	if string(out) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
}
