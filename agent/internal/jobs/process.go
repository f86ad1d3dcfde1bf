package jobs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"zos-build/agent/internal/layers"
	"zos-build/agent/internal/protocol"
)

// ProcessSpec is the argument object of core.system.
type ProcessSpec struct {
	Name  string            `json:"name"`
	Args  []string          `json:"args"`
	Env   map[string]string `json:"env"`
	Dir   string            `json:"dir"`
	Stdin string            `json:"stdin"`
}

// DefaultPath is used when neither the job nor the agent has a PATH (the
// kernel starts init with an almost empty environment).
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// LookPath finds name in path like a shell would. A name containing a slash
// is used as is. It first waits for the image's layers to be mounted: until
// then the links to their programs dangle.
func LookPath(name, path string) (string, error) {
	if name == "" {
		return "", errors.New("empty program name")
	}
	layers.Wait()
	check := func(p string) error {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.IsDir() {
			return fmt.Errorf("%s is a directory", p)
		}
		if st.Mode()&0o111 == 0 {
			return fmt.Errorf("%s is not executable", p)
		}
		return nil
	}
	if strings.Contains(name, "/") {
		if err := check(name); err != nil {
			return "", err
		}
		return name, nil
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if check(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found in PATH", name)
}

// buildEnv merges the agent's environment with the job's overrides.
func buildEnv(over map[string]string) []string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if i := strings.IndexByte(kv, '='); i > 0 {
			env[kv[:i]] = kv[i+1:]
		}
	}
	if env["PATH"] == "" {
		env["PATH"] = DefaultPath
	}
	for k, v := range over {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// tail keeps the last limit bytes written to it.
type tail struct {
	mu        sync.Mutex
	buf       []byte
	limit     int
	truncated bool
}

func (t *tail) Write(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.limit; over > 0 {
		// Cut at a line boundary when one is near, so the kept output
		// starts with a whole line.
		cut := over
		if i := strings.IndexByte(string(t.buf[over:min(len(t.buf), over+4096)]), '\n'); i >= 0 {
			cut = over + i + 1
		}
		t.buf = append(t.buf[:0], t.buf[cut:]...)
		t.truncated = true
	}
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.truncated {
		return "[... output truncated ...]\n" + string(t.buf)
	}
	return string(t.buf)
}

// maxLine bounds one streamed line; longer lines are split.
const maxLine = 64 << 10

func pump(r io.Reader, onChunk func([]byte)) {
	br := bufio.NewReaderSize(r, maxLine)
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			onChunk(chunk)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return
		}
	}
}

// Started is a process a Starter started.
type Started struct {
	Pid    int
	Exit   <-chan int               // receives the exit code (128+signal if killed) once
	Signal func(sig syscall.Signal) // signals the process group
}

// Starter starts argv with files as stdin, stdout, stderr; it may run the
// process somewhere else than the host (in a container).
type Starter func(spec ProcessSpec, files []*os.File) (Started, error)

// RunProcess runs spec on the host as part of job j and returns its outcome:
// SUCCESS on exit 0, ERROR otherwise, streams = [stdout, stderr], code =
// 1000 + exit code (or + 128+signal). Cancelling ctx sends SIGTERM to the
// process group, then SIGKILL after the grace period.
func (j *Job) RunProcess(ctx context.Context, spec ProcessSpec) Outcome {
	env := buildEnv(spec.Env)
	path := DefaultPath
	for _, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			path = kv[5:]
		}
	}
	bin, err := LookPath(spec.Name, path)
	if err != nil {
		code := protocol.CodeNotFound
		if os.IsPermission(err) || strings.Contains(err.Error(), "not executable") {
			code = protocol.CodeForbidden
		}
		return failMsg(protocol.StateError, code, err.Error())
	}
	if spec.Dir != "" {
		if st, err := os.Stat(spec.Dir); err != nil || !st.IsDir() {
			return failMsg(protocol.StateError, protocol.CodeBadRequest, fmt.Sprintf("dir %q is not a directory", spec.Dir))
		}
	}
	return j.RunWith(ctx, spec, func(spec ProcessSpec, files []*os.File) (Started, error) {
		argv := append([]string{spec.Name}, spec.Args...)
		attr := &os.ProcAttr{
			Dir: spec.Dir, Env: env, Files: files,
			// Own process group, so kill reaches the children the job spawns.
			Sys: &syscall.SysProcAttr{Setpgid: true},
		}
		proc, exitc, err := j.m.reaper.Start(bin, argv, attr)
		if err != nil {
			return Started{}, err
		}
		codes := make(chan int, 1)
		go func() { codes <- (<-exitc).Code() }()
		pid := proc.Pid
		return Started{Pid: pid, Exit: codes, Signal: func(sig syscall.Signal) { syscall.Kill(-pid, sig) }}, nil
	})
}

// RunWith runs spec with start as part of job j (see RunProcess).
func (j *Job) RunWith(ctx context.Context, spec ProcessSpec, start Starter) Outcome {
	m := j.m

	// Wait for a process slot (bounded concurrency).
	select {
	case m.slots <- struct{}{}:
		defer func() { <-m.slots }()
	case <-ctx.Done():
		return failMsg(protocol.StateError, protocol.CodeBusy, "cancelled while waiting for a process slot")
	}

	outR, outW, err := os.Pipe()
	if err != nil {
		return Fail(protocol.CodeInternal, err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return Fail(protocol.CodeInternal, err)
	}
	var inR, inW *os.File
	if spec.Stdin != "" {
		inR, inW, err = os.Pipe()
	} else {
		inR, err = os.Open(os.DevNull)
	}
	if err != nil {
		outR.Close()
		outW.Close()
		errR.Close()
		errW.Close()
		return Fail(protocol.CodeInternal, err)
	}
	j.mu.Lock()
	if j.reason != reasonNone {
		j.mu.Unlock()
		for _, f := range []*os.File{inR, inW, outR, outW, errR, errW} {
			if f != nil {
				f.Close()
			}
		}
		return failMsg(protocol.StateKilled, protocol.CodeOK, "killed before the process started")
	}
	proc, err := start(spec, []*os.File{inR, outW, errW})
	if err == nil {
		j.procs[proc.Pid] = &procInfo{name: spec.Name, args: spec.Args, signal: proc.Signal}
	}
	j.mu.Unlock()
	inR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		if inW != nil {
			inW.Close()
		}
		return Fail(protocol.CodeForbidden, err)
	}
	pid := proc.Pid
	if inW != nil {
		go func() {
			io.WriteString(inW, spec.Stdin)
			inW.Close()
		}()
	}

	stdout := &tail{limit: m.cfg.OutputLimit}
	stderr := &tail{limit: m.cfg.OutputLimit}
	var pumps sync.WaitGroup
	pumps.Add(2)
	go func() { defer pumps.Done(); pump(outR, j.capture(stdout, protocol.LevelStdout)) }()
	go func() { defer pumps.Done(); pump(errR, j.capture(stderr, protocol.LevelStderr)) }()

	var exit = func() (e reaperExit) {
		done := ctx.Done()
		var escalate <-chan time.Time
		for {
			select {
			case code := <-proc.Exit:
				return reaperExit{code: code}
			case <-done:
				done = nil
				j.signalLocked(pid, syscall.SIGTERM)
				escalate = time.After(m.cfg.KillGrace)
			case <-escalate:
				j.signalLocked(pid, syscall.SIGKILL)
			}
		}
	}()
	j.mu.Lock()
	j.procs[pid].exited = true
	j.mu.Unlock()

	// Background children may keep the pipes open; don't wait for them
	// forever. Closing our ends makes the pumps return.
	pumpsDone := make(chan struct{})
	go func() { pumps.Wait(); close(pumpsDone) }()
	select {
	case <-pumpsDone:
	case <-time.After(2 * time.Second):
		outR.Close()
		errR.Close()
		<-pumpsDone
	}
	outR.Close()
	errR.Close()

	o := Outcome{Level: protocol.LevelNone, Data: "", Streams: [2]string{stdout.String(), stderr.String()}}
	if exit.code == 0 {
		o.State = protocol.StateSuccess
	} else {
		o.State = protocol.StateError
		o.Code = protocol.ExitCodeBase + exit.code
	}
	return o
}

// capture returns what to do with one line of output of level lvl: keep it
// for the result (if log_levels wants it) and stream it to the job's own
// stream (with stream: true) and to its subscribers.
func (j *Job) capture(t *tail, lvl int) func(chunk []byte) {
	wanted := j.Cmd.WantsLevel(lvl)
	return func(chunk []byte) {
		if !wanted {
			return
		}
		t.Write(chunk)
		j.m.emit(j, lvl, strings.TrimRight(string(chunk), "\n"))
	}
}

type reaperExit struct {
	code     int
	signaled bool
}

// signalLocked signals the process group of pid unless it was reaped (so a
// recycled pid is never hit).
func (j *Job) signalLocked(pid int, sig syscall.Signal) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if p := j.procs[pid]; p != nil && !p.exited {
		p.signal(sig)
	}
}
