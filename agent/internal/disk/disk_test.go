package disk

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// Probe reads superblocks of filesystem images made by the host's mkfs
// (files, never devices).
func TestProbe(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		fstype, label string
		mkfs          []string
	}{
		{"ext4", "zosdata", []string{"mkfs.ext4", "-q", "-F", "-L", "zosdata"}},
		{"vfat", "", []string{"mkfs.vfat", "-F", "32"}},
		{"swap", "", []string{"mkswap"}},
	} {
		if _, err := exec.LookPath(c.mkfs[0]); err != nil {
			t.Logf("skipping %s: %s not installed", c.fstype, c.mkfs[0])
			continue
		}
		img := filepath.Join(dir, c.fstype+".img")
		if err := os.WriteFile(img, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(img, 64<<20); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(c.mkfs[0], append(c.mkfs[1:], img)...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		fstype, label := Probe(img)
		if fstype != c.fstype || label != c.label {
			t.Errorf("%s: probed %q %q", c.fstype, fstype, label)
		}
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, make([]byte, 1<<20), 0o600)
	if f, _ := Probe(empty); f != "" {
		t.Errorf("zeros probed as %q", f)
	}
}

func TestParseOptions(t *testing.T) {
	flags, data, err := ParseOptions("ro,noatime,compress=zstd,subvol=/a")
	if err != nil || flags != syscall.MS_RDONLY|syscall.MS_NOATIME || data != "compress=zstd,subvol=/a" {
		t.Fatalf("%x %q %v", flags, data, err)
	}
	if _, _, err := ParseOptions("ro,a b"); err == nil {
		t.Fatal("accepted whitespace")
	}
}
