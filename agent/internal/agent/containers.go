package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"zos-build/agent/internal/container"
	"zos-build/agent/internal/jobs"
	"zos-build/agent/internal/protocol"
	"zos-build/agent/internal/validate"
)

// runProcess runs spec on the node, or in the job's container when
// corex.dispatch put it there.
func (s *Server) runProcess(ctx context.Context, j *jobs.Job, spec jobs.ProcessSpec) jobs.Outcome {
	if j.Cmd.Container == 0 {
		return j.RunProcess(ctx, spec)
	}
	c, err := s.containers().Get(j.Cmd.Container)
	if err != nil {
		return outcome(nil, err)
	}
	return j.RunWith(ctx, spec, c.Starter(nil))
}

// containerCommands are what a container runs (as 0-core's ContainerClient
// sends them through corex.dispatch).
var containerCommands = map[string]bool{"core.system": true, "bash": true}

func (s *Server) containers() *container.Manager {
	s.ctrsOnce.Do(func() {
		dir := s.ContainerDir
		if dir == "" {
			dir = filepath.Join(os.TempDir(), "core0-containers")
		}
		s.ctrs = &container.Manager{Dir: dir, Reaper: s.Reaper,
			Tool: func(ctx context.Context, name string, args ...string) error {
				_, err := s.runTool(ctx, nil, name, args...)
				return err
			},
			IPPath: func() (string, error) {
				p, err := jobs.LookPath("ip", jobs.DefaultPath)
				if err != nil || isBusybox(p) {
					return "", &toolMissing{tool: "ip", pkg: "iproute2"}
				}
				return p, nil
			},
		}
	})
	return s.ctrs
}

type createArgs struct {
	Root        string            `json:"root"`
	Mount       map[string]string `json:"mount"`
	HostNetwork bool              `json:"host_network"`
	Nics        []container.Nic   `json:"nics"`
	Port        map[string]int    `json:"port"`
	Privileged  bool              `json:"privileged"`
	Hostname    string            `json:"hostname"`
	Storage     string            `json:"storage"`
	Name        string            `json:"name"`
	Identity    string            `json:"identity"`
	Env         map[string]string `json:"env"`
	Cgroups     json.RawMessage   `json:"cgroups"`
	Tags        []string          `json:"tags"`
}

// check refuses what core0 does not implement, field by field.
func (a *createArgs) check() error {
	unsupported := map[string]bool{"mount": len(a.Mount) > 0, "host_network": a.HostNetwork, "port": len(a.Port) > 0,
		"storage": a.Storage != "", "identity": a.Identity != "",
		"cgroups": len(a.Cgroups) > 0 && string(a.Cgroups) != "null" && string(a.Cgroups) != "[]"}
	for _, k := range []string{"mount", "host_network", "port", "storage", "identity", "cgroups"} {
		if unsupported[k] {
			return badArg("argument %s is not supported by core0 containers", k)
		}
	}
	if a.Hostname != "" {
		if err := wrap(validate.Label("hostname", a.Hostname)); err != nil || strings.Contains(a.Hostname, " ") {
			return badArg("argument hostname must be a host name, got %q", a.Hostname)
		}
	}
	if _, _, err := container.ParseRoot(a.Root); err != nil {
		return badArg("%v", err)
	}
	for i := range a.Nics {
		n := &a.Nics[i]
		if n.Type == "default" {
			return badArg("argument nics[%d]: type default (NAT to the node's network) is not supported; use type bridge", i)
		}
		if n.Type != "bridge" {
			return badArg("argument nics[%d]: type must be bridge, got %q", i, n.Type)
		}
		if err := wrap(validate.Interface(fmt.Sprintf("nics[%d].id", i), n.ID)); err != nil {
			return err
		}
		if !isBridge(n.ID) {
			return badArg("argument nics[%d].id: %s is not a bridge of the node (create it with bridge.create)", i, n.ID)
		}
		if n.Name != "" {
			if err := wrap(validate.Interface(fmt.Sprintf("nics[%d].name", i), n.Name)); err != nil {
				return err
			}
		}
		if n.HWAddr != "" {
			if err := wrap(validate.HWAddr(fmt.Sprintf("nics[%d].hwaddr", i), n.HWAddr)); err != nil {
				return err
			}
		}
		if c := n.Config; c != nil {
			if c.DHCP {
				return badArg("argument nics[%d].config.dhcp is not supported; give a cidr", i)
			}
			if c.CIDR != "" {
				if err := wrap(validate.CIDR(fmt.Sprintf("nics[%d].config.cidr", i), c.CIDR)); err != nil {
					return err
				}
			}
			if c.Gateway != "" {
				if err := wrap(validate.IP(fmt.Sprintf("nics[%d].config.gateway", i), c.Gateway)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// registerContainers adds corex.create/list/terminate/dispatch (0-core's
// names) and container.* aliases.
func (s *Server) registerContainers() {
	both := func(name string, register func(string)) {
		register("corex." + name)
		register("container." + name)
	}
	both("create", func(name string) {
		builtin(s, name, func(ctx context.Context, _ *jobs.Job, a *createArgs) (interface{}, error) {
			if err := a.check(); err != nil {
				return nil, err
			}
			c, err := s.containers().Create(ctx, container.Spec{Root: a.Root, Hostname: a.Hostname, Name: a.Name,
				Env: a.Env, Nics: a.Nics, Tags: a.Tags})
			if err != nil {
				return nil, err
			}
			return c.ID, nil
		})
	})
	both("list", func(name string) {
		builtin(s, name, func(_ context.Context, _ *jobs.Job, _ *noArgs) (interface{}, error) {
			out := map[string]interface{}{}
			for id, c := range s.containers().List() {
				out[id] = map[string]interface{}{"container": c}
			}
			return out, nil
		})
	})
	type idArgs struct {
		Container int `json:"container"`
	}
	both("terminate", func(name string) {
		builtin(s, name, func(_ context.Context, _ *jobs.Job, a *idArgs) (interface{}, error) {
			if a.Container < 1 {
				return nil, badArg("argument container must be a container id, got %d", a.Container)
			}
			// Kill the container's jobs first, so they end KILLED.
			for _, id := range s.Jobs.IDs() {
				if j := s.Jobs.Get(id); j != nil && j.Cmd.Container == a.Container {
					s.Jobs.Kill(id, 0)
				}
			}
			return nil, s.containers().Terminate(a.Container)
		})
	})
	both("dispatch", func(name string) {
		builtin(s, name, func(_ context.Context, _ *jobs.Job, a *struct {
			Container int             `json:"container"`
			Command   json.RawMessage `json:"command"`
		}) (interface{}, error) {
			if _, err := s.containers().Get(a.Container); err != nil {
				return nil, err
			}
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(a.Command, &fields); err != nil || fields == nil {
				return nil, badArg("argument command must be a command object")
			}
			if id, ok := fields["id"]; !ok || string(id) == "null" || string(id) == `""` {
				var b [16]byte
				rand.Read(b[:])
				fields["id"], _ = json.Marshal(hex.EncodeToString(b[:]))
			}
			raw, _ := json.Marshal(fields)
			cmd, perr := protocol.Parse(raw)
			if perr != nil {
				return nil, badArg("argument command: %s", perr.Msg)
			}
			if !containerCommands[cmd.Command] {
				return nil, badArg("argument command: %s cannot run in a container (only core.system and bash)", cmd.Command)
			}
			cmd.Container = a.Container
			if s.Jobs.Get(cmd.ID) != nil {
				return nil, badArg("argument command: id %s is in use", cmd.ID)
			}
			s.Jobs.Submit(cmd)
			return cmd.ID, nil
		})
	})
}
