package layers

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// The real thing on the host: mksquashfs writes a layer, MountInBackground attaches it to a loop device
// and mounts it, the file reads back, and unmounting releases the device (auto-clear).
func TestMount(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("mounting needs root")
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skip("no loop devices on this host")
	}
	if _, err := exec.LookPath("mksquashfs"); err != nil {
		t.Skip("mksquashfs (squashfs-tools) not installed")
	}
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	os.MkdirAll(filepath.Join(src, "usr/bin"), 0o755)
	os.WriteFile(filepath.Join(src, "usr/bin/tool"), []byte("from the layer\n"), 0o755)
	old := Dir
	Dir = filepath.Join(tmp, "layers")
	defer func() { Dir = old }()
	os.MkdirAll(Dir, 0o755)
	img := filepath.Join(Dir, "tools.squashfs")
	if out, err := exec.Command("mksquashfs", src, img, "-comp", "zstd", "-quiet", "-no-progress").CombinedOutput(); err != nil {
		t.Fatalf("mksquashfs: %v: %s", err, out)
	}
	// A broken image is logged and skipped; the good one still mounts.
	os.WriteFile(filepath.Join(Dir, "broken.squashfs"), []byte("not a squashfs image"), 0o644)

	// As core0 does at boot: in the background, and Wait (what jobs.LookPath calls) returns once
	// the layer is there.
	MountInBackground()
	Wait()
	mnt := filepath.Join(Dir, "tools")
	defer syscall.Unmount(mnt, 0)
	got, err := os.ReadFile(filepath.Join(mnt, "usr/bin/tool"))
	if err != nil || string(got) != "from the layer\n" {
		t.Fatalf("read through the mount: %q, %v", got, err)
	}
	if err := os.WriteFile(filepath.Join(mnt, "usr/bin/new"), nil, 0o644); err == nil {
		t.Fatal("a layer must be read-only")
	}
	if n := Mount(); n != 1 {
		t.Fatalf("a second call mounted again: %d", n)
	}
	if !IsImage(img) || IsImage(filepath.Join(tmp, "disk.img")) {
		t.Fatal("IsImage")
	}
	dev := loopOf(t, img)
	if err := syscall.Unmount(mnt, 0); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile("/sys/block/" + dev + "/loop/backing_file"); len(b) != 0 {
		t.Fatalf("%s still bound to %s after unmount", dev, b)
	}
}

// loopOf finds the loop device bound to img.
func loopOf(t *testing.T, img string) string {
	ents, _ := filepath.Glob("/sys/block/loop*/loop/backing_file")
	for _, e := range ents {
		if b, _ := os.ReadFile(e); string(b) == img+"\n" {
			return filepath.Base(filepath.Dir(filepath.Dir(e)))
		}
	}
	t.Fatalf("no loop device bound to %s", img)
	return ""
}
