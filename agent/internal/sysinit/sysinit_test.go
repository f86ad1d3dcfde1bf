package sysinit

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
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
