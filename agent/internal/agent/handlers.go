package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"

	"zos-build/agent/internal/info"
	"zos-build/agent/internal/jobs"
	"zos-build/agent/internal/protocol"
)

// haltGrace is how long core.reboot/core.poweroff wait after storing their
// result before the node goes down: a slow client (an emulated node, a far
// network) still needs a few round trips to collect it.
const haltGrace = 2 * time.Second

func badArgs(err error) jobs.Outcome { return jobs.Fail(protocol.CodeBadRequest, err) }

func (s *Server) register() {
	m := s.Jobs
	m.Handle("core.ping", func(ctx context.Context, j *jobs.Job) jobs.Outcome {
		return jobs.OK("PONG " + s.Version)
	})
	m.Handle("core.system", func(ctx context.Context, j *jobs.Job) jobs.Outcome {
		var spec jobs.ProcessSpec
		if err := protocol.DecodeArgs(j.Cmd, &spec); err != nil {
			return badArgs(err)
		}
		if spec.Name == "" {
			return badArgs(errors.New("argument name is required"))
		}
		return s.runProcess(ctx, j, spec)
	})
	kill := func(withSignal bool) jobs.Handler {
		return func(ctx context.Context, j *jobs.Job) jobs.Outcome {
			var a struct {
				ID     string `json:"id"`
				Signal int    `json:"signal"`
			}
			if err := protocol.DecodeArgs(j.Cmd, &a); err != nil {
				return badArgs(err)
			}
			if a.ID == "" {
				return badArgs(errors.New("argument id is required"))
			}
			if a.ID == j.Cmd.ID {
				return badArgs(errors.New("a job cannot kill itself"))
			}
			sig := syscall.Signal(0)
			if withSignal {
				sig = syscall.SIGTERM
				if a.Signal != 0 {
					sig = syscall.Signal(a.Signal)
				}
				if sig < 1 || sig > 64 {
					return badArgs(fmt.Errorf("signal %d out of range", a.Signal))
				}
			} else if a.Signal != 0 {
				return badArgs(errors.New("core.kill takes no signal; use job.kill"))
			}
			if err := s.Jobs.Kill(a.ID, sig); err != nil {
				return jobs.Fail(protocol.CodeUnknownCmd, fmt.Errorf("job %s: %w", a.ID, err))
			}
			return jobs.OK(true)
		}
	}
	m.Handle("core.kill", kill(false))
	m.Handle("job.kill", kill(true))
	m.Handle("job.list", func(ctx context.Context, j *jobs.Job) jobs.Outcome {
		var a struct {
			ID string `json:"id"`
		}
		if err := protocol.DecodeArgs(j.Cmd, &a); err != nil {
			return badArgs(err)
		}
		all := s.Jobs.List()
		out := make([]jobs.Info, 0, len(all))
		for _, in := range all {
			if in.ID == j.Cmd.ID || (a.ID != "" && in.ID != a.ID) {
				continue
			}
			out = append(out, in)
		}
		return jobs.OK(out)
	})
	m.Handle("core.state", func(ctx context.Context, j *jobs.Job) jobs.Outcome {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		self, _ := info.ReadProc(os.Getpid())
		st := map[string]interface{}{
			"pid":            os.Getpid(),
			"version":        s.Version,
			"uptime":         time.Since(s.started).Seconds(),
			"rss":            self.RSS,
			"vms":            self.VSize,
			"cpu_seconds":    self.CPUTime,
			"threads":        self.Threads,
			"goroutines":     runtime.NumGoroutine(),
			"heap_alloc":     ms.HeapAlloc,
			"heap_sys":       ms.Sys,
			"jobs":           s.Jobs.Running() - 1,
			"orphans_reaped": s.Reaper.Orphans(),
		}
		if s.State != nil {
			for k, v := range s.State() {
				st[k] = v
			}
		}
		return jobs.OK(st)
	})
	m.Handle("info.cpu", func(ctx context.Context, j *jobs.Job) jobs.Outcome { return jobs.OK(info.CPUs()) })
	m.Handle("info.mem", func(ctx context.Context, j *jobs.Job) jobs.Outcome { return jobs.OK(info.Memory()) })
	m.Handle("info.disk", func(ctx context.Context, j *jobs.Job) jobs.Outcome { return jobs.OK(info.Disks()) })
	m.Handle("info.nic", func(ctx context.Context, j *jobs.Job) jobs.Outcome { return jobs.OK(info.NICs()) })
	m.Handle("info.os", func(ctx context.Context, j *jobs.Job) jobs.Outcome { return jobs.OK(info.OS()) })
	m.Handle("info.version", func(ctx context.Context, j *jobs.Job) jobs.Outcome {
		return jobs.OK(map[string]interface{}{"version": s.Version, "go": runtime.Version(), "commands": s.Jobs.Commands()})
	})
	halt := func(poweroff bool) jobs.Handler {
		return func(ctx context.Context, j *jobs.Job) jobs.Outcome {
			if s.Shutdown == nil {
				return jobs.Fail(protocol.CodeInternal, errors.New("shutdown is not available"))
			}
			// Act only after the result has been pushed (Done closes after
			// the result is stored), and give the client haltGrace to read the
			// flag and the result through the management port (TLS, then the
			// splice to redis) before redis stops.
			go func() {
				<-j.Done()
				time.Sleep(haltGrace)
				s.haltOnce.Do(func() { s.Shutdown(poweroff) })
			}()
			if poweroff {
				return jobs.OK("powering off")
			}
			return jobs.OK("rebooting")
		}
	}
	m.Handle("core.reboot", halt(false))
	m.Handle("core.poweroff", halt(true))
	s.registerNode()
	s.registerFS()
	s.registerStorage()
	s.registerNetwork()
	s.registerNft()
	s.registerContainers()
}
