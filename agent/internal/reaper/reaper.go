// Package reaper owns every wait4() call of the agent.
//
// As PID 1 the agent inherits every orphaned process on the machine and must
// reap them, or they stay zombies forever. A naive "waitpid(-1) in a loop"
// would also collect the exit status of processes the job runner started and
// is waiting for, so the runner would never learn how its job ended. The
// fix is to have exactly one waiter: all child processes of the agent are
// started through Start, which registers the pid before the reaper can look
// it up, and the reaper delivers each exit status to the channel registered
// for that pid. Statuses of unregistered pids (adopted orphans) are dropped.
//
// Nothing else in the agent may call os/exec's Wait or Process.Wait.
package reaper

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"zos-build/agent/internal/clog"
)

// Exit describes how a process ended.
type Exit struct {
	Pid    int
	Status syscall.WaitStatus
	Rusage syscall.Rusage
}

// Code returns the exit code, or 128+signal for a process killed by a signal
// (the shell convention).
func (e Exit) Code() int {
	if e.Status.Signaled() {
		return 128 + int(e.Status.Signal())
	}
	return e.Status.ExitStatus()
}

// Reaper dispatches exit statuses to the owners of child processes.
type Reaper struct {
	mu      sync.Mutex
	waiters map[int]chan Exit
	// Orphans counts reaped processes nobody registered (for core.state).
	orphans uint64
	kick    chan struct{}
}

var (
	once     sync.Once
	instance *Reaper
)

// New returns the process-wide reaper, starting it on first use. Two
// reapers would steal exit statuses from each other, so there is only one.
func New() *Reaper {
	once.Do(func() { instance = start() })
	return instance
}

func start() *Reaper {
	r := &Reaper{waiters: map[int]chan Exit{}, kick: make(chan struct{}, 1)}
	sig := make(chan os.Signal, 16)
	signal.Notify(sig, syscall.SIGCHLD)
	clog.Go("reaper", func() {
		clog.Forever("reaper", time.Second, func() { r.loop(sig) })
	})
	return r
}

func (r *Reaper) loop(sig chan os.Signal) {
	// The ticker is a safety net: SIGCHLD deliveries coalesce, and a signal
	// arriving between the last wait4 and the select would otherwise be
	// noticed only at the next child exit.
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		r.reapAll()
		select {
		case <-sig:
		case <-r.kick:
		case <-t.C:
		}
	}
}

func (r *Reaper) reapAll() {
	for {
		var st syscall.WaitStatus
		var ru syscall.Rusage
		pid, err := syscall.Wait4(-1, &st, syscall.WNOHANG, &ru)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		if !st.Exited() && !st.Signaled() {
			continue // stopped/continued: not an exit
		}
		// Taking the lock here waits for a Start that is between fork and
		// registration, so a fast-exiting child is never mistaken for an
		// orphan.
		r.mu.Lock()
		ch, ok := r.waiters[pid]
		delete(r.waiters, pid)
		if !ok {
			r.orphans++
		}
		r.mu.Unlock()
		if ok {
			ch <- Exit{Pid: pid, Status: st, Rusage: ru}
		} else {
			clog.Debugf("reaped orphan pid %d (%s)", pid, describe(st))
		}
	}
}

func describe(st syscall.WaitStatus) string {
	if st.Signaled() {
		return "signal " + st.Signal().String()
	}
	return "exit " + itoa(st.ExitStatus())
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// Orphans returns how many unregistered processes were reaped.
func (r *Reaper) Orphans() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.orphans
}

// Start starts a process and returns a channel that receives its exit
// status exactly once. The process must not be waited for by other means.
func (r *Reaper) Start(path string, argv []string, attr *os.ProcAttr) (*os.Process, <-chan Exit, error) {
	ch := make(chan Exit, 1)
	r.mu.Lock()
	p, err := os.StartProcess(path, argv, attr)
	if err != nil {
		r.mu.Unlock()
		return nil, nil, err
	}
	r.waiters[p.Pid] = ch
	r.mu.Unlock()
	// A SIGCHLD for this child may have been consumed by a reapAll that ran
	// while we held the lock; make sure the loop looks again.
	select {
	case r.kick <- struct{}{}:
	default:
	}
	return p, ch, nil
}

// Run starts a process with stdio attached to the given files and waits for
// it, for short helper commands (ip, udhcpc, sync).
func (r *Reaper) Run(path string, argv []string, env []string, stdout, stderr *os.File) (Exit, error) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return Exit{}, err
	}
	defer devnull.Close()
	if stdout == nil {
		stdout = devnull
	}
	if stderr == nil {
		stderr = devnull
	}
	_, ch, err := r.Start(path, argv, &os.ProcAttr{Env: env, Files: []*os.File{devnull, stdout, stderr}})
	if err != nil {
		return Exit{}, err
	}
	return <-ch, nil
}
