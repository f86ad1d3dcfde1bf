// Package jobs runs commands: it owns the table of queued and running jobs,
// serialises jobs that share a queue name, enforces max_time, implements
// kill, and turns every outcome (including handler panics) into a result.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"syscall"
	"time"

	"zos-build/agent/internal/clog"
	"zos-build/agent/internal/protocol"
	"zos-build/agent/internal/reaper"
)

// Outcome is what a handler returns; the manager fills in the rest of the
// result (id, times, tags).
type Outcome struct {
	State   string
	Code    int
	Level   int // protocol.LevelResult for builtins, LevelNone for processes
	Data    interface{}
	Streams [2]string
}

// OK is a successful outcome carrying payload.
func OK(payload interface{}) Outcome {
	return Outcome{State: protocol.StateSuccess, Level: protocol.LevelResult, Data: payload}
}

// Fail is an ERROR outcome with a message.
func Fail(code int, err error) Outcome {
	return Outcome{State: protocol.StateError, Code: code, Level: protocol.LevelResult, Data: err.Error()}
}

// failMsg is an outcome of state with a message, at the result level.
func failMsg(state string, code int, msg string) Outcome {
	return Outcome{State: state, Code: code, Level: protocol.LevelResult, Data: msg}
}

// Handler runs one command. ctx is cancelled when the job is killed or its
// max_time elapses; handlers that block must watch it.
type Handler func(ctx context.Context, j *Job) Outcome

// Sinks receive what the manager produces.
type Sinks struct {
	// Accept is called, before the job runs, for every command that will
	// get a result (upstream's job flag). Duplicates are not accepted.
	Accept func(id string)
	// Result is called exactly once per accepted or rejected command that
	// has an id.
	Result func(*protocol.Result)
	// Line is called for each line of output of a streaming job (or of a
	// job it subscribed to); level is protocol.LevelStdout or LevelStderr.
	// It must not block for long.
	Line func(id string, level int, line string)
	// End is called after the last Line of a streaming job.
	End func(id string, res *protocol.Result)
}

// Config tunes the manager.
type Config struct {
	MaxJobs      int           // queued + running; more are rejected (busy)
	MaxProcs     int           // processes running at once; more wait
	RecentKeep   time.Duration // how long finished ids count as duplicates
	RecentMax    int           // how many finished ids are remembered
	KillGrace    time.Duration // SIGTERM → SIGKILL delay
	OutputLimit  int           // bytes of each stream kept for the result
	HandlerGrace time.Duration // how long a cancelled handler may take to return
}

// DefaultConfig is used by the agent.
var DefaultConfig = Config{
	MaxJobs: 1024, MaxProcs: 64, RecentKeep: 10 * time.Minute, RecentMax: 10000,
	KillGrace: 5 * time.Second, OutputLimit: 1 << 20, HandlerGrace: 10 * time.Second,
}

// Stop reasons.
const (
	reasonNone    = ""
	reasonKilled  = "killed"
	reasonTimeout = "timeout"
)

// Job is one accepted command.
type Job struct {
	Cmd     *protocol.Command
	m       *Manager
	created time.Time

	mu      sync.Mutex
	state   string // "queued", "running"
	started time.Time
	reason  string
	cancel  context.CancelFunc
	procs   map[int]*procInfo
	killed  bool // a kill signal was sent on request
	done    chan struct{}
	subs    []string // ids of core.subscribe jobs copying this job's output
	runs    int      // completed runs (max_restart, recurring_period)
}

type procInfo struct {
	name   string
	args   []string
	exited bool
	signal func(syscall.Signal) // signals the process group
}

// Info is the public view of a job, for job.list.
type Info struct {
	ID        string      `json:"id"`
	Command   string      `json:"command"`
	Queue     string      `json:"queue,omitempty"`
	State     string      `json:"state"`
	StartTime int64       `json:"starttime,omitempty"`
	Created   int64       `json:"created"`
	MaxTime   int64       `json:"max_time,omitempty"`
	Pids      []int       `json:"pids,omitempty"`
	Process   []string    `json:"process,omitempty"`
	Tags      interface{} `json:"tags"`
}

type queue struct {
	pending []*Job
	running bool
}

// Manager is the job table.
type Manager struct {
	cfg      Config
	reaper   *reaper.Reaper
	sinks    Sinks
	handlers map[string]Handler

	mu          sync.Mutex
	jobs        map[string]*Job
	recent      map[string]time.Time
	recentOrder []string
	queues      map[string]*queue
	slots       chan struct{}
	closed      bool
	wg          sync.WaitGroup
}

// NewManager creates a manager. Handlers are registered with Handle.
func NewManager(cfg Config, r *reaper.Reaper, sinks Sinks) *Manager {
	return &Manager{
		cfg: cfg, reaper: r, sinks: sinks, handlers: map[string]Handler{},
		jobs: map[string]*Job{}, recent: map[string]time.Time{}, queues: map[string]*queue{},
		slots: make(chan struct{}, cfg.MaxProcs),
	}
}

// Handle registers a handler for a command name.
func (m *Manager) Handle(name string, h Handler) { m.handlers[name] = h }

// Commands lists the registered command names.
func (m *Manager) Commands() []string {
	out := make([]string, 0, len(m.handlers))
	for k := range m.handlers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func nowMs(t time.Time) int64 { return t.UnixNano() / int64(time.Millisecond) }

func (m *Manager) build(cmd *protocol.Command, start time.Time, o Outcome) *protocol.Result {
	r := protocol.NewResult(cmd, o.State, o.Code, o.Data)
	r.Level = o.Level
	r.Streams = o.Streams
	r.StartTime = nowMs(start)
	r.Time = nowMs(time.Now()) - r.StartTime
	return r
}

func (m *Manager) reply(cmd *protocol.Command, start time.Time, o Outcome) *protocol.Result {
	r := m.build(cmd, start, o)
	if m.sinks.Result != nil {
		m.sinks.Result(r)
	}
	return r
}

// Reject answers a command that failed validation (if it has an id).
func (m *Manager) Reject(pe *protocol.ParseError) {
	if pe.ID == "" {
		return
	}
	cmd := &protocol.Command{ID: pe.ID, Command: pe.Command, Tags: pe.Tags}
	m.mu.Lock()
	_, running := m.jobs[pe.ID]
	_, seen := m.recent[pe.ID]
	if !running && !seen {
		m.rememberLocked(pe.ID)
	}
	m.mu.Unlock()
	if running || seen {
		clog.Warnf("dropping command %s: the id is already in use", pe.ID)
		return
	}
	m.accept(pe.ID)
	m.reply(cmd, time.Now(), failMsg(protocol.StateError, pe.Code, pe.Msg))
}

func (m *Manager) pruneRecentLocked(now time.Time) {
	for len(m.recentOrder) > 0 {
		id := m.recentOrder[0]
		t, ok := m.recent[id]
		if ok && len(m.recentOrder) <= m.cfg.RecentMax && now.Sub(t) < m.cfg.RecentKeep {
			return
		}
		m.recentOrder = m.recentOrder[1:]
		if ok && t.Equal(m.recent[id]) {
			delete(m.recent, id)
		}
	}
}

func (m *Manager) rememberLocked(id string) {
	now := time.Now()
	if _, ok := m.recent[id]; !ok {
		m.recentOrder = append(m.recentOrder, id)
	}
	m.recent[id] = now
	m.pruneRecentLocked(now)
}

func (m *Manager) accept(id string) {
	if m.sinks.Accept != nil {
		m.sinks.Accept(id)
	}
}

// Submit accepts a validated command. It never blocks on the job itself.
// A command whose id belongs to a queued or running job, or to one that
// ended less than RecentKeep ago, is dropped (logged only), as in 0-core:
// answering it would put a second result in the first job's result list.
func (m *Manager) Submit(cmd *protocol.Command) {
	now := time.Now()
	m.mu.Lock()
	m.pruneRecentLocked(now)
	_, running := m.jobs[cmd.ID]
	_, seen := m.recent[cmd.ID]
	if running || seen {
		m.mu.Unlock()
		clog.Warnf("dropping command %s (%s): the id is already in use", cmd.ID, cmd.Command)
		return
	}
	h, ok := m.handlers[cmd.Command]
	if !ok {
		m.rememberLocked(cmd.ID)
		m.mu.Unlock()
		m.accept(cmd.ID)
		m.reply(cmd, now, failMsg(protocol.StateUnknownCmd, protocol.CodeUnknownCmd,
			fmt.Sprintf("unknown command %q", cmd.Command)))
		return
	}
	if m.closed || len(m.jobs) >= m.cfg.MaxJobs {
		msg := fmt.Sprintf("agent busy: %d jobs queued or running", len(m.jobs))
		if m.closed {
			msg = "agent is shutting down"
		}
		m.rememberLocked(cmd.ID)
		m.mu.Unlock()
		m.accept(cmd.ID)
		m.reply(cmd, now, failMsg(protocol.StateError, protocol.CodeBusy, msg))
		return
	}
	j := &Job{Cmd: cmd, m: m, created: now, state: "queued", procs: map[int]*procInfo{}, done: make(chan struct{})}
	m.jobs[cmd.ID] = j
	m.wg.Add(1)
	// The flag goes out before the job can end, so a client that sees the
	// result also sees the flag.
	m.mu.Unlock()
	m.accept(cmd.ID)
	m.mu.Lock()
	if cmd.Queue == "" {
		m.mu.Unlock()
		go m.run(j, h)
		return
	}
	q := m.queues[cmd.Queue]
	if q == nil {
		q = &queue{}
		m.queues[cmd.Queue] = q
	}
	q.pending = append(q.pending, j)
	if !q.running {
		q.running = true
		go m.drain(cmd.Queue, q)
	}
	m.mu.Unlock()
}

func (m *Manager) drain(name string, q *queue) {
	for {
		m.mu.Lock()
		if len(q.pending) == 0 {
			q.running = false
			delete(m.queues, name)
			m.mu.Unlock()
			return
		}
		j := q.pending[0]
		q.pending = q.pending[1:]
		h := m.handlers[j.Cmd.Command]
		m.mu.Unlock()
		m.run(j, h)
	}
}

func (m *Manager) finish(j *Job) {
	m.mu.Lock()
	delete(m.jobs, j.Cmd.ID)
	m.rememberLocked(j.Cmd.ID)
	m.mu.Unlock()
	close(j.done)
	m.wg.Done()
}

func (m *Manager) run(j *Job, h Handler) {
	defer m.finish(j)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	j.mu.Lock()
	if j.reason != reasonNone {
		// Killed while waiting in its queue.
		j.mu.Unlock()
		m.publish(j, time.Now(), failMsg(protocol.StateKilled, protocol.CodeOK, "killed before it started"))
		return
	}
	j.state = "running"
	j.started = time.Now()
	j.cancel = cancel
	start := j.started
	j.mu.Unlock()

	if j.Cmd.MaxTime > 0 {
		t := time.AfterFunc(time.Duration(j.Cmd.MaxTime)*time.Second, func() { j.stop(reasonTimeout) })
		defer t.Stop()
	}
	for {
		o := m.runOnce(ctx, j, h)
		j.mu.Lock()
		j.runs++
		runs, reason := j.runs, j.reason
		j.mu.Unlock()
		var wait time.Duration
		switch {
		case reason != reasonNone || o.State == protocol.StateKilled || o.State == protocol.StateTimeout:
		case j.Cmd.RecurringPeriod > 0:
			wait = time.Duration(j.Cmd.RecurringPeriod) * time.Second
		case o.State != protocol.StateSuccess && runs < j.Cmd.MaxRestart:
			wait = restartDelay
		}
		if wait == 0 {
			m.publish(j, start, o)
			return
		}
		clog.Debugf("job %s: run %d ended %s, again in %s", j.Cmd.ID, runs, o.State, wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			o.State = protocol.StateKilled
			m.publish(j, start, o)
			return
		}
	}
}

// restartDelay is the pause before a failed job with max_restart runs again.
var restartDelay = time.Second

// runOnce runs the handler once and classifies the outcome.
func (m *Manager) runOnce(ctx context.Context, j *Job, h Handler) Outcome {
	outc := make(chan Outcome, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				clog.LogPanic("command "+j.Cmd.Command+" (job "+j.Cmd.ID+")", r)
				outc <- failMsg(protocol.StateError, protocol.CodeInternal, fmt.Sprintf("internal error: panic: %v", r))
			}
		}()
		outc <- h(ctx, j)
	}()

	var o Outcome
	select {
	case o = <-outc:
	case <-ctx.Done():
		// Give the handler a chance to clean up (kill its process) and
		// report; then answer without it.
		select {
		case o = <-outc:
		case <-time.After(m.cfg.HandlerGrace):
			o = failMsg(protocol.StateError, protocol.CodeInternal, "handler did not stop")
		}
	}
	j.mu.Lock()
	reason, killed := j.reason, j.killed
	j.mu.Unlock()
	switch {
	case reason == reasonTimeout:
		o.State = protocol.StateTimeout
		if o.Code == 0 {
			o.Code = protocol.CodeTimeout
		}
		if s, ok := o.Data.(string); !ok || s == "" {
			o.Data = fmt.Sprintf("max_time of %ds exceeded", j.Cmd.MaxTime)
		}
	case reason == reasonKilled || (killed && o.State != protocol.StateSuccess):
		o.State = protocol.StateKilled
	}
	return o
}

// publish ends the job's stream (if any) and then stores the result, so a
// client that has the result can read the complete stream.
func (m *Manager) publish(j *Job, start time.Time, o Outcome) {
	r := m.build(j.Cmd, start, o)
	if j.Cmd.Stream && m.sinks.End != nil {
		m.sinks.End(j.Cmd.ID, r)
	}
	if m.sinks.Result != nil {
		m.sinks.Result(r)
	}
}

// stop cancels the job for reason; the process handler escalates signals.
func (j *Job) stop(reason string) {
	j.mu.Lock()
	if j.reason == reasonNone {
		j.reason = reason
	}
	cancel := j.cancel
	j.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// ErrNoJob is returned by Kill for an unknown id.
var ErrNoJob = errors.New("no such job")

// Kill stops a job. With sig == 0 the job is cancelled (processes get
// SIGTERM, then SIGKILL after the grace period) and ends as KILLED. With a
// signal, that signal is sent to the job's processes; the job ends as
// KILLED if the process then dies.
func (m *Manager) Kill(id string, sig syscall.Signal) error {
	m.mu.Lock()
	j := m.jobs[id]
	m.mu.Unlock()
	if j == nil {
		return ErrNoJob
	}
	if sig == 0 {
		j.stop(reasonKilled)
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.state == "queued" {
		j.reason = reasonKilled
		return nil
	}
	if len(j.procs) == 0 {
		if j.cancel != nil {
			j.reason = reasonKilled
			j.cancel()
		}
		return nil
	}
	j.killed = true
	for _, p := range j.procs {
		if !p.exited {
			// The whole process group the job started.
			p.signal(sig)
		}
	}
	return nil
}

// List returns the queued and running jobs.
func (m *Manager) List() []Info {
	m.mu.Lock()
	js := make([]*Job, 0, len(m.jobs))
	for _, j := range m.jobs {
		js = append(js, j)
	}
	m.mu.Unlock()
	out := make([]Info, 0, len(js))
	for _, j := range js {
		out = append(out, j.Info())
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Created < out[b].Created })
	return out
}

// Info describes the job.
func (j *Job) Info() Info {
	j.mu.Lock()
	defer j.mu.Unlock()
	in := Info{ID: j.Cmd.ID, Command: j.Cmd.Command, Queue: j.Cmd.Queue, State: j.state,
		Created: nowMs(j.created), MaxTime: j.Cmd.MaxTime, Tags: j.Cmd.Tags}
	if len(j.Cmd.Tags) == 0 {
		in.Tags = nil
	}
	if !j.started.IsZero() {
		in.StartTime = nowMs(j.started)
	}
	for pid, p := range j.procs {
		if !p.exited {
			in.Pids = append(in.Pids, pid)
			in.Process = append([]string{p.name}, p.args...)
		}
	}
	return in
}

// Running returns the number of queued and running jobs.
func (m *Manager) Running() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.jobs)
}

// Shutdown rejects new jobs, kills running ones and waits up to timeout for
// them to report.
func (m *Manager) Shutdown(timeout time.Duration) {
	m.mu.Lock()
	m.closed = true
	js := make([]*Job, 0, len(m.jobs))
	for _, j := range m.jobs {
		js = append(js, j)
	}
	m.mu.Unlock()
	for _, j := range js {
		j.stop(reasonKilled)
	}
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		clog.Warnf("%d jobs did not stop in %s", m.Running(), timeout)
	}
}

// Done is closed when the job has finished and reported.
func (j *Job) Done() <-chan struct{} { return j.done }

// Get returns a queued or running job.
func (m *Manager) Get(id string) *Job {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.jobs[id]
}

// emit hands one output line of j to the stream sink: to j's own stream if
// it streams, and to every job subscribed to it.
func (m *Manager) emit(j *Job, lvl int, line string) {
	if m.sinks.Line == nil {
		return
	}
	j.mu.Lock()
	subs := j.subs
	j.mu.Unlock()
	if j.Cmd.Stream {
		m.sinks.Line(j.Cmd.ID, lvl, line)
	}
	for _, id := range subs {
		m.sinks.Line(id, lvl, line)
	}
}

// Subscribe copies the output of job target to the stream of job sub from
// now on; the returned channel closes when target ends.
func (m *Manager) Subscribe(target, sub string) (<-chan struct{}, error) {
	m.mu.Lock()
	j := m.jobs[target]
	m.mu.Unlock()
	if j == nil {
		return nil, ErrNoJob
	}
	j.mu.Lock()
	j.subs = append(append([]string(nil), j.subs...), sub)
	j.mu.Unlock()
	return j.done, nil
}

// Unsubscribe stops copying target's output to sub.
func (m *Manager) Unsubscribe(target, sub string) {
	m.mu.Lock()
	j := m.jobs[target]
	m.mu.Unlock()
	if j == nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]string, 0, len(j.subs))
	for _, s := range j.subs {
		if s != sub {
			out = append(out, s)
		}
	}
	j.subs = out
}

// IDs returns the ids of queued and running jobs.
func (m *Manager) IDs() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.jobs))
	for id := range m.jobs {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
