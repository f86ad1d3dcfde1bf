package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"

	"zos-build/agent/internal/info"
	"zos-build/agent/internal/jobs"
	"zos-build/agent/internal/protocol"
)

// registerNode adds 0-core's bash, core.subscribe, core.killall,
// process.list/kill, info.port and info.dmi.
func (s *Server) registerNode() {
	// bash: 0-core runs `sh -c script`; the image's sh is busybox ash.
	s.Jobs.Handle("bash", func(ctx context.Context, j *jobs.Job) jobs.Outcome {
		var a struct {
			Script string `json:"script"`
			Stdin  string `json:"stdin"`
		}
		if err := protocol.DecodeArgs(j.Cmd, &a); err != nil {
			return badArgs(err)
		}
		if a.Script == "" {
			return badArgs(errors.New("argument script is required"))
		}
		return s.runProcess(ctx, j, jobs.ProcessSpec{Name: "sh", Args: []string{"-c", a.Script}, Stdin: a.Stdin})
	})
	builtin(s, "core.subscribe", func(ctx context.Context, j *jobs.Job, a *struct {
		ID string `json:"id"`
	}) (interface{}, error) {
		if a.ID == "" {
			return nil, badArg("argument id is required")
		}
		if a.ID == j.Cmd.ID {
			return nil, badArg("a job cannot subscribe to itself")
		}
		done, err := s.Jobs.Subscribe(a.ID, j.Cmd.ID)
		if err != nil {
			return nil, fmt.Errorf("job %s: %w", a.ID, os.ErrNotExist)
		}
		defer s.Jobs.Unsubscribe(a.ID, j.Cmd.ID)
		select {
		case <-done:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	builtin(s, "core.killall", func(_ context.Context, j *jobs.Job, _ *noArgs) (interface{}, error) {
		n := 0
		for _, id := range s.Jobs.IDs() {
			if id != j.Cmd.ID && s.Jobs.Kill(id, 0) == nil {
				n++
			}
		}
		return n, nil
	})
	builtin(s, "process.list", func(_ context.Context, _ *jobs.Job, a *struct {
		PID *int `json:"pid"`
	}) (interface{}, error) {
		if a.PID == nil {
			return info.Processes(), nil
		}
		p, ok := info.ReadProc(*a.PID)
		if !ok {
			return nil, fmt.Errorf("process %d: %w", *a.PID, os.ErrNotExist)
		}
		return []info.Proc{p}, nil
	})
	builtin(s, "process.kill", func(_ context.Context, _ *jobs.Job, a *struct {
		PID    int `json:"pid"`
		Signal int `json:"signal"`
	}) (interface{}, error) {
		if a.PID <= 1 {
			return nil, badArg("argument pid must be a process id greater than 1, got %d", a.PID)
		}
		if a.PID == os.Getpid() {
			return nil, badArg("pid %d is the agent itself", a.PID)
		}
		if s.State != nil {
			if rp, ok := s.State()["redis_pid"].(int); ok && rp == a.PID {
				return nil, badArg("pid %d is the agent's redis; clients would lose the node", a.PID)
			}
		}
		sig := syscall.SIGTERM
		if a.Signal != 0 {
			sig = syscall.Signal(a.Signal)
		}
		if sig < 1 || sig > 64 {
			return nil, badArg("argument signal %d out of range 1-64", a.Signal)
		}
		if err := syscall.Kill(a.PID, sig); err != nil {
			if err == syscall.ESRCH {
				return nil, fmt.Errorf("process %d: %w", a.PID, os.ErrNotExist)
			}
			return nil, err
		}
		return true, nil
	})
	builtin(s, "info.port", func(_ context.Context, _ *jobs.Job, _ *noArgs) (interface{}, error) {
		return info.Ports(), nil
	})
	builtin(s, "info.dmi", func(_ context.Context, _ *jobs.Job, a *struct {
		Types []interface{} `json:"types"`
	}) (interface{}, error) {
		sel, err := info.DMISelect(a.Types)
		if err != nil {
			return nil, badArg("%v", err)
		}
		return info.DMI(sel), nil
	})
}
