package agent

import (
	"context"
	"os"

	"zos-build/agent/internal/fsys"
	"zos-build/agent/internal/jobs"
)

type pathArgs struct {
	Path string `json:"path"`
}

// registerFS adds the filesystem.* commands (0-core's names and arguments).
func (s *Server) registerFS() {
	files := fsys.NewTable()
	builtin(s, "filesystem.open", func(_ context.Context, _ *jobs.Job, a *struct {
		File string `json:"file"`
		Mode string `json:"mode"`
		Perm uint32 `json:"perm"`
	}) (interface{}, error) {
		p, err := fsys.Path("file", a.File)
		if err != nil {
			return nil, badArg("%v", err)
		}
		if _, err := fsys.OpenFlags(a.Mode); err != nil {
			return nil, badArg("%v", err)
		}
		return files.Open(p, a.Mode, a.Perm)
	})
	type fdArgs struct {
		FD string `json:"fd"`
	}
	builtin(s, "filesystem.read", func(_ context.Context, _ *jobs.Job, a *fdArgs) (interface{}, error) {
		return files.Read(a.FD)
	})
	builtin(s, "filesystem.write", func(_ context.Context, _ *jobs.Job, a *struct {
		FD    string `json:"fd"`
		Block string `json:"block"`
	}) (interface{}, error) {
		n, err := files.Write(a.FD, a.Block)
		if err != nil {
			return nil, err
		}
		return n, nil
	})
	builtin(s, "filesystem.close", func(_ context.Context, _ *jobs.Job, a *fdArgs) (interface{}, error) {
		return nil, files.Close(a.FD)
	})
	pathCmd := func(name string, fn func(p string) (interface{}, error)) {
		builtin(s, name, func(_ context.Context, _ *jobs.Job, a *pathArgs) (interface{}, error) {
			p, err := fsys.Path("path", a.Path)
			if err != nil {
				return nil, badArg("%v", err)
			}
			return fn(p)
		})
	}
	pathCmd("filesystem.exists", func(p string) (interface{}, error) {
		_, err := os.Lstat(p)
		return err == nil, nil
	})
	pathCmd("filesystem.list", func(p string) (interface{}, error) { return fsys.List(p) })
	pathCmd("filesystem.mkdir", func(p string) (interface{}, error) { return nil, os.MkdirAll(p, 0o755) })
	pathCmd("filesystem.remove", func(p string) (interface{}, error) { return nil, fsys.Remove(p) })
	builtin(s, "filesystem.move", func(_ context.Context, _ *jobs.Job, a *struct {
		Path        string `json:"path"`
		Destination string `json:"destination"`
	}) (interface{}, error) {
		src, err := fsys.Path("path", a.Path)
		if err != nil {
			return nil, badArg("%v", err)
		}
		dst, err := fsys.Path("destination", a.Destination)
		if err != nil {
			return nil, badArg("%v", err)
		}
		return nil, os.Rename(src, dst)
	})
	builtin(s, "filesystem.chmod", func(_ context.Context, _ *jobs.Job, a *struct {
		Path      string `json:"path"`
		Mode      uint32 `json:"mode"`
		Recursive bool   `json:"recursive"`
	}) (interface{}, error) {
		p, err := fsys.Path("path", a.Path)
		if err != nil {
			return nil, badArg("%v", err)
		}
		if a.Mode > 0o7777 {
			return nil, badArg("argument mode %#o is not a permission (max 07777)", a.Mode)
		}
		return nil, fsys.Chmod(p, a.Mode, a.Recursive)
	})
	builtin(s, "filesystem.chown", func(_ context.Context, _ *jobs.Job, a *struct {
		Path      string `json:"path"`
		User      string `json:"user"`
		Group     string `json:"group"`
		Recursive bool   `json:"recursive"`
	}) (interface{}, error) {
		p, err := fsys.Path("path", a.Path)
		if err != nil {
			return nil, badArg("%v", err)
		}
		if a.User == "" && a.Group == "" {
			return nil, badArg("argument user or group is required")
		}
		if err := fsys.Chown(p, a.User, a.Group, a.Recursive); err != nil {
			if os.IsNotExist(err) || os.IsPermission(err) {
				return nil, err
			}
			return nil, badArg("%v", err)
		}
		return nil, nil
	})
}
