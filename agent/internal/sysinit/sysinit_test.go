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
