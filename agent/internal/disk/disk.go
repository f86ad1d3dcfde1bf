// Package disk reads block devices from the kernel (/sys/block,
// /proc/self/mountinfo), recognises filesystems by their superblock and
// mounts with mount(2): the disk.* commands need no tool for these.
package disk

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"zos-build/agent/internal/layers"
)

// SysRoot prefixes /sys and /proc paths (tests).
var SysRoot = ""

// Device is one block device or partition (an lsblk-like shape).
type Device struct {
	Name       string   `json:"name"`
	Path       string   `json:"path"`
	Type       string   `json:"type"` // disk, part, loop
	Size       uint64   `json:"size"` // bytes
	Start      uint64   `json:"start,omitempty"`
	ReadOnly   bool     `json:"ro"`
	Rotational bool     `json:"rota"`
	Removable  bool     `json:"rm"`
	Model      string   `json:"model,omitempty"`
	Serial     string   `json:"serial,omitempty"`
	Fstype     string   `json:"fstype,omitempty"`
	Label      string   `json:"label,omitempty"`
	Mounts     []string `json:"mountpoints"`
	Children   []Device `json:"children,omitempty"`
}

func readSys(p string) string {
	b, _ := os.ReadFile(SysRoot + p)
	return strings.TrimSpace(string(b))
}

func num(p string) uint64 {
	n, _ := strconv.ParseUint(readSys(p), 10, 64)
	return n
}

// Mounts maps a device path to its mount points.
func Mounts() map[string][]string {
	out := map[string][]string{}
	b, _ := os.ReadFile(SysRoot + "/proc/self/mountinfo")
	for _, line := range strings.Split(string(b), "\n") {
		i := strings.Index(line, " - ")
		f := strings.Fields(line)
		if i < 0 || len(f) < 5 {
			continue
		}
		post := strings.Fields(line[i+3:])
		if len(post) < 2 {
			continue
		}
		out[post[1]] = append(out[post[1]], unescape(f[4]))
	}
	return out
}

func unescape(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

// List returns every block device with its partitions, skipping ram and
// zram devices, loop devices without a backing file and the image's own layers.
func List() []Device {
	mounts := Mounts()
	ents, _ := os.ReadDir(SysRoot + "/sys/block")
	out := []Device{}
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, "ram") || strings.HasPrefix(name, "zram") {
			continue
		}
		base := "/sys/block/" + name
		typ := "disk"
		if strings.HasPrefix(name, "loop") {
			// Unbound loop devices, and the image's own layers (mounted at boot, not disks).
			if backing := readSys(base + "/loop/backing_file"); backing == "" || layers.IsImage(backing) {
				continue
			}
			typ = "loop"
		}
		d := describe(name, base, typ, mounts)
		d.Rotational = readSys(base+"/queue/rotational") == "1"
		d.Removable = readSys(base+"/removable") == "1"
		d.Model = readSys(base + "/device/model")
		d.Serial = readSys(base + "/device/serial")
		parts, _ := os.ReadDir(SysRoot + base)
		for _, p := range parts {
			if strings.HasPrefix(p.Name(), name) && readSys(base+"/"+p.Name()+"/partition") != "" {
				c := describe(p.Name(), base+"/"+p.Name(), "part", mounts)
				c.Start = num(base+"/"+p.Name()+"/start") * 512
				d.Children = append(d.Children, c)
			}
		}
		sort.Slice(d.Children, func(a, b int) bool { return d.Children[a].Start < d.Children[b].Start })
		out = append(out, d)
	}
	return out
}

func describe(name, base, typ string, mounts map[string][]string) Device {
	d := Device{Name: name, Path: "/dev/" + name, Type: typ, Size: num(base+"/size") * 512,
		ReadOnly: readSys(base+"/ro") == "1", Mounts: mounts["/dev/"+name]}
	if d.Mounts == nil {
		d.Mounts = []string{}
	}
	d.Fstype, d.Label = Probe(d.Path)
	return d
}

// Find returns the device or partition called name (without /dev/).
func Find(name string) (Device, bool) {
	for _, d := range List() {
		if d.Name == name {
			return d, true
		}
		for _, c := range d.Children {
			if c.Name == name {
				return c, true
			}
		}
	}
	return Device{}, false
}

// Probe recognises a filesystem from its superblock: btrfs, ext2/3/4, xfs,
// vfat, swap. It returns "" for anything else (or unreadable devices).
func Probe(dev string) (fstype, label string) {
	f, err := os.Open(dev)
	if err != nil {
		return "", ""
	}
	defer f.Close()
	// Up to the end of btrfs's superblock (at 64 KiB, 4 KiB long; its label at 0x12b).
	buf := make([]byte, 0x11000)
	n, _ := f.ReadAt(buf, 0)
	buf = buf[:n]
	cstr := func(b []byte) string {
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		return strings.TrimSpace(string(b))
	}
	switch {
	case len(buf) >= 0x1012b+256 && string(buf[0x10040:0x10048]) == "_BHRfS_M":
		return "btrfs", cstr(buf[0x1012b : 0x1012b+256])
	case len(buf) >= 0x478 && buf[0x438] == 0x53 && buf[0x439] == 0xEF:
		compat := uint32(buf[0x45c]) | uint32(buf[0x45d])<<8
		incompat := uint32(buf[0x460]) | uint32(buf[0x461])<<8
		t := "ext2"
		if incompat&0x40 != 0 || incompat&0x200 != 0 { // extents or flex_bg
			t = "ext4"
		} else if compat&0x4 != 0 { // journal
			t = "ext3"
		}
		return t, cstr(buf[0x478 : 0x478+16])
	case len(buf) >= 4 && string(buf[0:4]) == "XFSB":
		return "xfs", cstr(buf[0x6c : 0x6c+12])
	case len(buf) >= 0x5a && (string(buf[0x52:0x5a]) == "FAT32   " || string(buf[0x36:0x3e]) == "FAT16   "):
		return "vfat", ""
	case len(buf) >= 4096 && string(buf[4086:4096]) == "SWAPSPACE2":
		return "swap", ""
	}
	return "", ""
}

var mountFlags = map[string]uintptr{
	"ro": syscall.MS_RDONLY, "nosuid": syscall.MS_NOSUID, "nodev": syscall.MS_NODEV, "noexec": syscall.MS_NOEXEC,
	"noatime": syscall.MS_NOATIME, "nodiratime": syscall.MS_NODIRATIME, "relatime": syscall.MS_RELATIME,
	"sync": syscall.MS_SYNCHRONOUS, "bind": syscall.MS_BIND, "rw": 0, "defaults": 0,
}

// ParseOptions splits a comma-separated option string into mount(2) flags
// and filesystem data (options the kernel passes to the filesystem).
func ParseOptions(opts string) (uintptr, string, error) {
	var flags uintptr
	var data []string
	for _, o := range strings.Split(opts, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if strings.ContainsAny(o, " \t\n\x00") {
			return 0, "", fmt.Errorf("mount option %q contains whitespace", o)
		}
		if f, ok := mountFlags[o]; ok {
			flags |= f
			continue
		}
		data = append(data, o)
	}
	return flags, strings.Join(data, ","), nil
}

// Mount mounts source on target (created if missing). fstype "" probes
// the superblock.
func Mount(source, target, fstype, opts string) error {
	flags, data, err := ParseOptions(opts)
	if err != nil {
		return err
	}
	if fstype == "" && flags&syscall.MS_BIND == 0 {
		if fstype, _ = Probe(source); fstype == "" {
			return fmt.Errorf("%s: no filesystem recognised (btrfs, ext2/3/4, xfs, vfat)", source)
		}
	}
	if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}
	if err := syscall.Mount(source, target, fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s on %s (%s): %w", source, target, fstype, err)
	}
	return nil
}

// Umount unmounts a mount point, or every mount point of a device.
func Umount(source string) ([]string, error) {
	targets := []string{source}
	if st, err := os.Stat(source); err == nil && st.Mode()&os.ModeDevice != 0 {
		targets = Mounts()[source]
		if len(targets) == 0 {
			return nil, fmt.Errorf("%s is not mounted", source)
		}
	}
	for _, t := range targets {
		if err := syscall.Unmount(filepath.Clean(t), 0); err != nil {
			return nil, fmt.Errorf("umount %s: %w", t, err)
		}
	}
	return targets, nil
}
