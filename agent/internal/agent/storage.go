package agent

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"zos-build/agent/internal/disk"
	"zos-build/agent/internal/fsys"
	"zos-build/agent/internal/jobs"
	"zos-build/agent/internal/validate"
)

// sizeArg accepts 0-core's int-or-string positions (an int is MiB, as parted's default unit is MB).
type sizeArg struct{ s string }

func (a *sizeArg) UnmarshalJSON(b []byte) error {
	if n, err := strconv.ParseUint(string(b), 10, 64); err == nil {
		a.s = strconv.FormatUint(n, 10) + "MiB"
		return nil
	}
	if err := jsonString(b, &a.s); err != nil {
		return fmt.Errorf("must be a number or a size string")
	}
	return nil
}

func mustPath(arg, p string) (string, error) {
	c, err := fsys.Path(arg, p)
	if err != nil {
		return "", badArg("%v", err)
	}
	return c, nil
}

func wrap(err error) error {
	if err != nil {
		return badArg("%v", err)
	}
	return nil
}

// registerStorage adds disk.* and btrfs.* (0-core's names and arguments).
func (s *Server) registerStorage() {
	builtin(s, "disk.list", func(_ context.Context, _ *jobs.Job, _ *noArgs) (interface{}, error) {
		return map[string]interface{}{"blockdevices": disk.List()}, nil
	})
	builtin(s, "disk.getinfo", func(_ context.Context, _ *jobs.Job, a *struct {
		Disk string `json:"disk"`
		Part string `json:"part"`
	}) (interface{}, error) {
		name := strings.TrimPrefix(a.Disk, "/dev/")
		if a.Part != "" {
			name = strings.TrimPrefix(a.Part, "/dev/")
		}
		if err := wrap(validate.BlockDevice("disk", "/dev/"+name)); err != nil {
			return nil, err
		}
		d, ok := disk.Find(name)
		if !ok {
			return nil, badArg("argument disk: /dev/%s is not a disk or partition the kernel lists", name)
		}
		return d, nil
	})
	builtin(s, "disk.mktable", func(ctx context.Context, _ *jobs.Job, a *struct {
		Disk      string `json:"disk"`
		TableType string `json:"table_type"`
	}) (interface{}, error) {
		if a.TableType == "" {
			a.TableType = "gpt"
		}
		if err := wrap(validate.BlockDevice("disk", a.Disk)); err != nil {
			return nil, err
		}
		if err := wrap(validate.OneOf("table_type", a.TableType, "gpt", "msdos", "loop")); err != nil {
			return nil, err
		}
		if err := s.refuseMounted(a.Disk); err != nil {
			return nil, err
		}
		_, err := s.runTool(ctx, nil, "parted", "-s", a.Disk, "mklabel", a.TableType)
		return nil, err
	})
	builtin(s, "disk.mkpart", func(ctx context.Context, _ *jobs.Job, a *struct {
		Disk     string  `json:"disk"`
		Start    sizeArg `json:"start"`
		End      sizeArg `json:"end"`
		PartType string  `json:"part_type"`
	}) (interface{}, error) {
		if a.PartType == "" {
			a.PartType = "primary"
		}
		for _, err := range []error{validate.BlockDevice("disk", a.Disk), validate.Size("start", a.Start.s),
			validate.Size("end", a.End.s), validate.OneOf("part_type", a.PartType, "primary", "logical", "extended")} {
			if err != nil {
				return nil, badArg("%v", err)
			}
		}
		_, err := s.runTool(ctx, nil, "parted", "-s", "-a", "optimal", a.Disk, "mkpart", a.PartType, a.Start.s, a.End.s)
		return nil, err
	})
	builtin(s, "disk.rmpart", func(ctx context.Context, _ *jobs.Job, a *struct {
		Disk   string `json:"disk"`
		Number int    `json:"number"`
	}) (interface{}, error) {
		if err := wrap(validate.BlockDevice("disk", a.Disk)); err != nil {
			return nil, err
		}
		if a.Number < 1 || a.Number > 128 {
			return nil, badArg("argument number must be a partition number 1-128, got %d", a.Number)
		}
		_, err := s.runTool(ctx, nil, "parted", "-s", a.Disk, "rm", strconv.Itoa(a.Number))
		return nil, err
	})
	builtin(s, "disk.mount", func(_ context.Context, _ *jobs.Job, a *struct {
		Source  string `json:"source"`
		Target  string `json:"target"`
		Options string `json:"options"`
	}) (interface{}, error) {
		if err := wrap(validate.BlockDevice("source", a.Source)); err != nil {
			return nil, err
		}
		target, err := mustPath("target", a.Target)
		if err != nil {
			return nil, err
		}
		if _, _, err := disk.ParseOptions(a.Options); err != nil {
			return nil, badArg("argument options: %v", err)
		}
		return nil, disk.Mount(a.Source, target, "", a.Options)
	})
	builtin(s, "disk.umount", func(_ context.Context, _ *jobs.Job, a *struct {
		Source string `json:"source"`
	}) (interface{}, error) {
		src, err := mustPath("source", a.Source)
		if err != nil {
			return nil, err
		}
		if src == "/" {
			return nil, badArg("refusing to unmount /")
		}
		return disk.Umount(src)
	})

	builtin(s, "btrfs.create", func(ctx context.Context, _ *jobs.Job, a *struct {
		Label     string   `json:"label"`
		Metadata  string   `json:"metadata"`
		Data      string   `json:"data"`
		Devices   []string `json:"devices"`
		Overwrite bool     `json:"overwrite"`
	}) (interface{}, error) {
		if len(a.Devices) == 0 {
			return nil, badArg("argument devices needs at least one device")
		}
		args := []string{}
		if a.Label != "" {
			if err := wrap(validate.Label("label", a.Label)); err != nil {
				return nil, err
			}
			args = append(args, "-L", a.Label)
		}
		profiles := []string{"raid0", "raid1", "raid5", "raid6", "raid10", "dup", "single"}
		for _, p := range [][3]string{{"metadata", a.Metadata, "-m"}, {"data", a.Data, "-d"}} {
			if p[1] == "" {
				continue
			}
			if err := wrap(validate.OneOf(p[0], p[1], profiles...)); err != nil {
				return nil, err
			}
			args = append(args, p[2], p[1])
		}
		if a.Overwrite {
			args = append(args, "-f")
		}
		for _, d := range a.Devices {
			if err := wrap(validate.BlockDevice("devices", d)); err != nil {
				return nil, err
			}
			if err := s.refuseMounted(d); err != nil {
				return nil, err
			}
		}
		_, err := s.runTool(ctx, nil, "mkfs.btrfs", append(args, a.Devices...)...)
		return nil, err
	})
	builtin(s, "btrfs.list", func(ctx context.Context, _ *jobs.Job, _ *noArgs) (interface{}, error) {
		out, err := s.runTool(ctx, nil, "btrfs", "filesystem", "show", "--raw")
		if err != nil {
			return nil, err
		}
		return parseBtrfsShow(string(out)), nil
	})
	type mountpointArgs struct {
		Mountpoint string `json:"mountpoint"`
	}
	builtin(s, "btrfs.info", func(ctx context.Context, _ *jobs.Job, a *mountpointArgs) (interface{}, error) {
		mp, err := mustPath("mountpoint", a.Mountpoint)
		if err != nil {
			return nil, err
		}
		out, err := s.runTool(ctx, nil, "btrfs", "filesystem", "df", "--raw", mp)
		if err != nil {
			return nil, err
		}
		return parseBtrfsDF(string(out)), nil
	})
	subvol := func(name string, argv func(p string) []string, parse func(string) interface{}) {
		builtin(s, name, func(ctx context.Context, _ *jobs.Job, a *pathArgs) (interface{}, error) {
			p, err := mustPath("path", a.Path)
			if err != nil {
				return nil, err
			}
			out, err := s.runTool(ctx, nil, "btrfs", argv(p)...)
			if err != nil || parse == nil {
				return nil, err
			}
			return parse(string(out)), nil
		})
	}
	subvol("btrfs.subvol_create", func(p string) []string { return []string{"subvolume", "create", p} }, nil)
	subvol("btrfs.subvol_delete", func(p string) []string { return []string{"subvolume", "delete", p} }, nil)
	subvol("btrfs.subvol_list", func(p string) []string { return []string{"subvolume", "list", "-o", p} },
		func(out string) interface{} { return parseSubvolList(out) })
}

// refuseMounted refuses to repartition or format a device (or one of its
// partitions) that is mounted.
func (s *Server) refuseMounted(dev string) error {
	name := filepath.Base(dev)
	for path, mps := range disk.Mounts() {
		if path == dev || strings.HasPrefix(filepath.Base(path), name) && strings.HasPrefix(path, "/dev/") {
			return badArg("%s is in use: %s is mounted on %s", dev, path, strings.Join(mps, ", "))
		}
	}
	return nil
}

// BtrfsFS is one filesystem of btrfs.list.
type BtrfsFS struct {
	Label        string        `json:"label"`
	UUID         string        `json:"uuid"`
	TotalDevices int           `json:"total_devices"`
	Used         uint64        `json:"used"`
	Devices      []BtrfsDevice `json:"devices"`
}

// BtrfsDevice is a device of a btrfs filesystem.
type BtrfsDevice struct {
	DevID int    `json:"devid"`
	Size  uint64 `json:"size"`
	Used  uint64 `json:"used"`
	Path  string `json:"path"`
}

func parseBtrfsShow(out string) []BtrfsFS {
	res := []BtrfsFS{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "Label:") && len(f) >= 4:
			label := strings.Trim(strings.TrimSpace(line[len("Label:"):strings.Index(line, "uuid:")]), "'")
			if label == "none" {
				label = ""
			}
			res = append(res, BtrfsFS{Label: label, UUID: f[len(f)-1], Devices: []BtrfsDevice{}})
		case len(res) > 0 && len(f) >= 6 && f[0] == "Total" && f[1] == "devices":
			res[len(res)-1].TotalDevices, _ = strconv.Atoi(f[2])
			res[len(res)-1].Used, _ = strconv.ParseUint(f[len(f)-1], 10, 64)
		case len(res) > 0 && len(f) >= 8 && f[0] == "devid":
			d := BtrfsDevice{Path: f[7]}
			d.DevID, _ = strconv.Atoi(f[1])
			d.Size, _ = strconv.ParseUint(f[3], 10, 64)
			d.Used, _ = strconv.ParseUint(f[5], 10, 64)
			res[len(res)-1].Devices = append(res[len(res)-1].Devices, d)
		}
	}
	return res
}

// parseBtrfsDF turns "Data, single: total=N, used=M" lines into
// {data: {profile, total, used}, ...}.
func parseBtrfsDF(out string) map[string]map[string]interface{} {
	res := map[string]map[string]interface{}{}
	for _, line := range strings.Split(out, "\n") {
		colon := strings.Index(line, ":")
		comma := strings.Index(line, ",")
		if colon < 0 || comma < 0 || comma > colon {
			continue
		}
		kind := strings.ToLower(strings.TrimSpace(line[:comma]))
		e := map[string]interface{}{"profile": strings.TrimSpace(line[comma+1 : colon])}
		for _, kv := range strings.Split(line[colon+1:], ",") {
			p := strings.SplitN(strings.TrimSpace(kv), "=", 2)
			if len(p) == 2 {
				n, _ := strconv.ParseUint(p[1], 10, 64)
				e[p[0]] = n
			}
		}
		res[kind] = e
	}
	return res
}

// Subvol is an entry of btrfs.subvol_list.
type Subvol struct {
	ID       int    `json:"id"`
	Gen      int    `json:"gen"`
	TopLevel int    `json:"top_level"`
	Path     string `json:"path"`
}

func parseSubvolList(out string) []Subvol {
	res := []Subvol{}
	for _, line := range strings.Split(out, "\n") {
		// ID 257 gen 8 top level 5 path sub1
		f := strings.Fields(line)
		if len(f) < 9 || f[0] != "ID" {
			continue
		}
		v := Subvol{Path: strings.Join(f[8:], " ")}
		v.ID, _ = strconv.Atoi(f[1])
		v.Gen, _ = strconv.Atoi(f[3])
		v.TopLevel, _ = strconv.Atoi(f[6])
		res = append(res, v)
	}
	return res
}
