package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"zos-build/agent/internal/jobs"
	"zos-build/agent/internal/reaper"
)

// Nic attaches a container to a bridge (0-core's nic shape; type bridge).
type Nic struct {
	Type   string     `json:"type"`
	ID     string     `json:"id"` // the bridge
	Name   string     `json:"name"`
	HWAddr string     `json:"hwaddr"`
	Config *NicConfig `json:"config"`
}

// NicConfig is a nic's static address.
type NicConfig struct {
	DHCP    bool     `json:"dhcp"`
	CIDR    string   `json:"cidr"`
	Gateway string   `json:"gateway"`
	DNS     []string `json:"dns"`
}

// Spec is a validated container.create.
type Spec struct {
	Root     string            `json:"root"`
	Hostname string            `json:"hostname"`
	Name     string            `json:"name"`
	Env      map[string]string `json:"env"`
	Nics     []Nic             `json:"nics"`
	Tags     []string          `json:"tags"`
}

// Container is a running container.
type Container struct {
	ID      int       `json:"id"`
	Spec    Spec      `json:"arguments"`
	Pid     int       `json:"pid"` // host pid of its init
	Created time.Time `json:"created"`
	Veths   []string  `json:"veths"` // host ends

	dir   string // tmpfs holding upper/, work/, root/
	ctl   *os.File
	wmu   sync.Mutex
	mu    sync.Mutex
	seq   uint64
	waits map[uint64]chan Reply
	gone  chan struct{}
	exitc <-chan reaper.Exit
}

// Manager owns the containers of the node.
type Manager struct {
	Dir    string // state: images/ and containers/<id>/
	Reaper *reaper.Reaper
	// Tool runs a host tool with fixed arguments (ip).
	Tool func(ctx context.Context, name string, args ...string) error
	// IPPath is the host's iproute2 ip, handed to inits for their setup.
	IPPath func() (string, error)

	mu     sync.Mutex
	next   int
	active map[int]*Container
}

// ErrNoContainer is returned for an unknown container id.
var ErrNoContainer = errors.New("no such container")

// Create starts a container from spec.
func (m *Manager) Create(ctx context.Context, spec Spec) (c *Container, err error) {
	rawURL, sum, err := ParseRoot(spec.Root)
	if err != nil {
		return nil, err
	}
	ipPath := ""
	if len(spec.Nics) > 0 {
		if ipPath, err = m.IPPath(); err != nil {
			return nil, err
		}
	}
	lower, err := Image(ctx, filepath.Join(m.Dir, "images"), rawURL, sum)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.active == nil {
		m.active = map[int]*Container{}
	}
	m.next++
	id := m.next
	m.mu.Unlock()
	c = &Container{ID: id, Spec: spec, Created: time.Now(), waits: map[uint64]chan Reply{}, gone: make(chan struct{}),
		dir: filepath.Join(m.Dir, "containers", strconv.Itoa(id))}
	if c.Spec.Hostname == "" {
		c.Spec.Hostname = fmt.Sprintf("container-%d", id)
	}
	// The named result c is nil by the time a failing return runs this: clean up what was made.
	made := c
	defer func() {
		if err != nil {
			m.cleanup(made)
		}
	}()
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return nil, err
	}
	// The writable layer lives on a tmpfs of its own: the image stays
	// pristine and terminate frees everything with one umount.
	if err := syscall.Mount("tmpfs", c.dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "mode=700"); err != nil {
		return nil, fmt.Errorf("mount tmpfs for container %d: %w", id, err)
	}
	for _, d := range []string{"upper", "work", "root"} {
		if err := os.Mkdir(filepath.Join(c.dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	root := filepath.Join(c.dir, "root")
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, filepath.Join(c.dir, "upper"), filepath.Join(c.dir, "work"))
	if err := syscall.Mount("overlay", root, "overlay", 0, opts); err != nil {
		return nil, fmt.Errorf("mount overlay for container %d (kernel needs CONFIG_OVERLAY_FS): %w", id, err)
	}
	agentEnd, initEnd, err := socketPair()
	if err != nil {
		return nil, err
	}
	defer initEnd.Close()
	self, err := os.Executable()
	if err != nil {
		agentEnd.Close()
		return nil, err
	}
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	proc, exitc, err := m.Reaper.Start(self, []string{"core0-container-" + strconv.Itoa(id)}, &os.ProcAttr{
		Env:   []string{InitEnv + "=1", "PATH=" + jobs.DefaultPath},
		Files: []*os.File{devnull, os.Stderr, os.Stderr, initEnd},
		Sys: &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS |
			syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET, Setsid: true},
	})
	if err != nil {
		agentEnd.Close()
		return nil, fmt.Errorf("start container init (kernel needs PID, mount, UTS, IPC and network namespaces): %w", err)
	}
	c.Pid, c.ctl, c.exitc = proc.Pid, agentEnd, exitc
	steps := [][]string{{"link", "set", "dev", "lo", "up"}}
	for i, n := range spec.Nics {
		host := fmt.Sprintf("vc%dn%d", id, i)
		peer := fmt.Sprintf("vp%dn%d", id, i)
		if err := m.Tool(ctx, "ip", "link", "add", "name", host, "type", "veth", "peer", "name", peer); err != nil {
			return nil, err
		}
		c.Veths = append(c.Veths, host)
		if err := m.Tool(ctx, "ip", "link", "set", "dev", host, "master", n.ID, "up"); err != nil {
			return nil, err
		}
		if err := m.Tool(ctx, "ip", "link", "set", "dev", peer, "netns", strconv.Itoa(c.Pid)); err != nil {
			return nil, err
		}
		name := n.Name
		if name == "" {
			name = fmt.Sprintf("eth%d", i)
		}
		steps = append(steps, []string{"link", "set", "dev", peer, "name", name})
		if n.HWAddr != "" {
			steps = append(steps, []string{"link", "set", "dev", name, "address", n.HWAddr})
		}
		steps = append(steps, []string{"link", "set", "dev", name, "up"})
		if n.Config != nil && n.Config.CIDR != "" {
			steps = append(steps, []string{"addr", "add", n.Config.CIDR, "dev", name})
			if n.Config.Gateway != "" {
				steps = append(steps, []string{"route", "add", "default", "via", n.Config.Gateway, "dev", name})
			}
		}
	}
	if err := send(int(agentEnd.Fd()), Setup{Root: root, Hostname: c.Spec.Hostname, IPTool: ipPath, NetSteps: steps}); err != nil {
		return nil, fmt.Errorf("container %d: %w", id, err)
	}
	var first Reply
	if _, err := recv(int(agentEnd.Fd()), &first); err != nil {
		return nil, fmt.Errorf("container %d: init ended during setup", id)
	}
	if !first.Ready {
		return nil, fmt.Errorf("container %d setup: %s", id, first.Error)
	}
	go c.readReplies()
	m.mu.Lock()
	m.active[id] = c
	m.mu.Unlock()
	return c, nil
}

func (c *Container) readReplies() {
	defer close(c.gone)
	for {
		var r Reply
		if _, err := recv(int(c.ctl.Fd()), &r); err != nil {
			c.mu.Lock()
			for seq, ch := range c.waits {
				code := 128 + int(syscall.SIGKILL)
				ch <- Reply{Seq: seq, Exit: &code}
				delete(c.waits, seq)
			}
			c.mu.Unlock()
			return
		}
		c.mu.Lock()
		ch := c.waits[r.Seq]
		if r.Exit != nil || r.Error != "" {
			delete(c.waits, r.Seq)
		}
		c.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
}

func (c *Container) request(req Request, files ...int) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return send(int(c.ctl.Fd()), req, files...)
}

// Starter returns a jobs.Starter running processes inside c.
func (c *Container) Starter(env map[string]string) jobs.Starter {
	return func(spec jobs.ProcessSpec, files []*os.File) (jobs.Started, error) {
		vars := []string{"PATH=" + jobs.DefaultPath, "HOME=/", "HOSTNAME=" + c.Spec.Hostname}
		for _, src := range []map[string]string{c.Spec.Env, env, spec.Env} {
			keys := make([]string, 0, len(src))
			for k := range src {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				vars = append(vars, k+"="+src[k])
			}
		}
		ch := make(chan Reply, 2)
		c.mu.Lock()
		c.seq++
		seq := c.seq
		c.waits[seq] = ch
		c.mu.Unlock()
		select {
		case <-c.gone:
			return jobs.Started{}, fmt.Errorf("container %d is gone", c.ID)
		default:
		}
		fds := []int{int(files[0].Fd()), int(files[1].Fd()), int(files[2].Fd())}
		if err := c.request(Request{Op: "exec", Seq: seq, Name: spec.Name, Args: spec.Args, Env: vars, Dir: spec.Dir}, fds...); err != nil {
			return jobs.Started{}, err
		}
		r := <-ch
		if r.Error != "" {
			return jobs.Started{}, errors.New(r.Error)
		}
		if r.Exit != nil { // died before we saw it start (container gone)
			return jobs.Started{}, fmt.Errorf("container %d is gone", c.ID)
		}
		codes := make(chan int, 1)
		go func() {
			e := <-ch
			codes <- *e.Exit
		}()
		pid := r.Pid
		return jobs.Started{Pid: pid, Exit: codes, Signal: func(sig syscall.Signal) {
			c.request(Request{Op: "signal", Pid: pid, Sig: int(sig)})
		}}, nil
	}
}

// Get returns a running container.
func (m *Manager) Get(id int) (*Container, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.active[id]
	if c == nil {
		return nil, fmt.Errorf("container %d: %w", id, os.ErrNotExist)
	}
	return c, nil
}

// List returns the running containers by id.
func (m *Manager) List() map[string]*Container {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]*Container{}
	for id, c := range m.active {
		out[strconv.Itoa(id)] = c
	}
	return out
}

// Terminate kills a container's processes and removes its mounts and
// interfaces.
func (m *Manager) Terminate(id int) error {
	m.mu.Lock()
	c := m.active[id]
	delete(m.active, id)
	m.mu.Unlock()
	if c == nil {
		return fmt.Errorf("container %d: %w", id, os.ErrNotExist)
	}
	return m.cleanup(c)
}

// cleanup kills init (the kernel then kills every process of the PID
// namespace; its mount and network namespaces die with them), deletes the
// host ends of the veths and unmounts the overlay and the tmpfs.
func (m *Manager) cleanup(c *Container) error {
	if c.Pid > 0 {
		syscall.Kill(c.Pid, syscall.SIGKILL)
		select {
		case <-c.exitc:
		case <-time.After(10 * time.Second):
		}
	}
	if c.ctl != nil {
		c.ctl.Close()
	}
	var errs []string
	for _, v := range c.Veths {
		// The pair usually vanished with the network namespace already.
		if err := m.Tool(context.Background(), "ip", "link", "del", "dev", v); err != nil {
			if _, serr := os.Stat("/sys/class/net/" + v); serr == nil {
				errs = append(errs, err.Error())
			}
		}
	}
	root := filepath.Join(c.dir, "root")
	for _, mp := range []string{root, c.dir} {
		if err := syscall.Unmount(mp, 0); err != nil && err != syscall.EINVAL && err != syscall.ENOENT {
			if err2 := syscall.Unmount(mp, syscall.MNT_DETACH); err2 != nil {
				errs = append(errs, fmt.Sprintf("umount %s: %v", mp, err))
			}
		}
	}
	os.Remove(c.dir)
	if len(errs) > 0 {
		return fmt.Errorf("container %d cleanup: %v", c.ID, errs)
	}
	return nil
}
