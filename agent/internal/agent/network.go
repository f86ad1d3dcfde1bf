package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"

	"zos-build/agent/internal/jobs"
	"zos-build/agent/internal/validate"
)

// ip runs iproute2's ip with fixed, validated arguments.
func (s *Server) ip(ctx context.Context, args ...string) ([]byte, error) {
	return s.runTool(ctx, nil, "ip", args...)
}

// ipJSON runs `ip -j ...` and decodes its output into dst.
func (s *Server) ipJSON(ctx context.Context, dst interface{}, args ...string) error {
	out, err := s.ip(ctx, append([]string{"-j"}, args...)...)
	if err != nil {
		return err
	}
	if len(out) == 0 {
		out = []byte("[]")
	}
	if err := json.Unmarshal(out, dst); err != nil {
		return fmt.Errorf("ip -j %v: cannot read its output: %v", args, err)
	}
	return nil
}

func isBridge(name string) bool {
	_, err := os.Stat("/sys/class/net/" + name + "/bridge")
	return err == nil
}

// Link is an entry of ip.link.list.
type Link struct {
	Name   string `json:"name"`
	HWAddr string `json:"hwaddr"`
	MTU    int    `json:"mtu"`
	Up     bool   `json:"up"`
	Type   string `json:"type"`
	Master string `json:"master"`
}

// Route is an entry of ip.route.list.
type Route struct {
	Dev string `json:"dev"`
	Dst string `json:"dst"`
	Gw  string `json:"gw"`
}

type nameArgs struct {
	Name string `json:"name"`
}

// registerNetwork adds bridge.*, ip.* (as upstream's IPManager uses them).
func (s *Server) registerNetwork() {
	iface := func(arg, v string) error { return wrap(validate.Interface(arg, v)) }

	createBridge := func(ctx context.Context, name, hwaddr string) error {
		if err := iface("name", name); err != nil {
			return err
		}
		if _, err := os.Stat("/sys/class/net/" + name); err == nil {
			return badArg("argument name: interface %s already exists", name)
		}
		args := []string{"link", "add", "name", name}
		if hwaddr != "" {
			if err := wrap(validate.HWAddr("hwaddr", hwaddr)); err != nil {
				return err
			}
			args = append(args, "address", hwaddr)
		}
		if _, err := s.ip(ctx, append(args, "type", "bridge")...); err != nil {
			return err
		}
		_, err := s.ip(ctx, "link", "set", "dev", name, "up")
		return err
	}
	deleteBridge := func(ctx context.Context, name string) error {
		if err := iface("name", name); err != nil {
			return err
		}
		if !isBridge(name) {
			return fmt.Errorf("bridge %s: %w", name, os.ErrNotExist)
		}
		_, err := s.ip(ctx, "link", "del", "dev", name)
		return err
	}
	setMaster := func(ctx context.Context, bridge, nic string) error {
		if err := iface("name", bridge); err != nil {
			return err
		}
		if err := iface("nic", nic); err != nil {
			return err
		}
		if !isBridge(bridge) {
			return fmt.Errorf("bridge %s: %w", bridge, os.ErrNotExist)
		}
		_, err := s.ip(ctx, "link", "set", "dev", nic, "master", bridge)
		return err
	}
	noMaster := func(ctx context.Context, nic string) error {
		if err := iface("nic", nic); err != nil {
			return err
		}
		_, err := s.ip(ctx, "link", "set", "dev", nic, "nomaster")
		return err
	}

	builtin(s, "bridge.create", func(ctx context.Context, _ *jobs.Job, a *struct {
		Name    string `json:"name"`
		HWAddr  string `json:"hwaddr"`
		Network *struct {
			Mode     string            `json:"mode"`
			Nat      bool              `json:"nat"`
			Settings map[string]string `json:"settings"`
		} `json:"network"`
	}) (interface{}, error) {
		var cidr string
		if n := a.Network; n != nil {
			switch n.Mode {
			case "", "none":
			case "static":
				cidr = n.Settings["cidr"]
				if err := wrap(validate.CIDR("network.settings.cidr", cidr)); err != nil {
					return nil, err
				}
			case "dnsmasq":
				return nil, badArg("argument network.mode dnsmasq is not supported by core0 yet; use static")
			default:
				return nil, badArg("argument network.mode must be static or dnsmasq, got %q", n.Mode)
			}
			if n.Nat {
				return nil, badArg("argument network.nat is not supported by core0 yet; add rules with nft")
			}
		}
		if err := createBridge(ctx, a.Name, a.HWAddr); err != nil {
			return nil, err
		}
		if cidr != "" {
			if _, err := s.ip(ctx, "addr", "add", cidr, "dev", a.Name); err != nil {
				s.ip(ctx, "link", "del", "dev", a.Name)
				return nil, err
			}
		}
		return nil, nil
	})
	builtin(s, "bridge.list", func(_ context.Context, _ *jobs.Job, _ *noArgs) (interface{}, error) {
		out := []string{}
		ents, _ := os.ReadDir("/sys/class/net")
		for _, e := range ents {
			if isBridge(e.Name()) {
				out = append(out, e.Name())
			}
		}
		sort.Strings(out)
		return out, nil
	})
	builtin(s, "bridge.delete", func(ctx context.Context, _ *jobs.Job, a *nameArgs) (interface{}, error) {
		return nil, deleteBridge(ctx, a.Name)
	})
	builtin(s, "bridge.nic-add", func(ctx context.Context, _ *jobs.Job, a *struct {
		Name string `json:"name"`
		Nic  string `json:"nic"`
	}) (interface{}, error) {
		return nil, setMaster(ctx, a.Name, a.Nic)
	})
	builtin(s, "bridge.nic-remove", func(ctx context.Context, _ *jobs.Job, a *struct {
		Nic string `json:"nic"`
	}) (interface{}, error) {
		return nil, noMaster(ctx, a.Nic)
	})
	builtin(s, "bridge.nic-list", func(_ context.Context, _ *jobs.Job, a *nameArgs) (interface{}, error) {
		if err := iface("name", a.Name); err != nil {
			return nil, err
		}
		if !isBridge(a.Name) {
			return nil, fmt.Errorf("bridge %s: %w", a.Name, os.ErrNotExist)
		}
		out := []string{}
		ents, _ := os.ReadDir("/sys/class/net/" + a.Name + "/brif")
		for _, e := range ents {
			out = append(out, e.Name())
		}
		return out, nil
	})

	// ip.bridge.*: the same operations under IPManager's names.
	builtin(s, "ip.bridge.add", func(ctx context.Context, _ *jobs.Job, a *struct {
		Name   string `json:"name"`
		HWAddr string `json:"hwaddr"`
	}) (interface{}, error) {
		return nil, createBridge(ctx, a.Name, a.HWAddr)
	})
	builtin(s, "ip.bridge.del", func(ctx context.Context, _ *jobs.Job, a *nameArgs) (interface{}, error) {
		return nil, deleteBridge(ctx, a.Name)
	})
	type ifArgs struct {
		Name string `json:"name"`
		Inf  string `json:"inf"`
	}
	builtin(s, "ip.bridge.addif", func(ctx context.Context, _ *jobs.Job, a *ifArgs) (interface{}, error) {
		return nil, setMaster(ctx, a.Name, a.Inf)
	})
	builtin(s, "ip.bridge.delif", func(ctx context.Context, _ *jobs.Job, a *ifArgs) (interface{}, error) {
		if err := iface("name", a.Name); err != nil {
			return nil, err
		}
		return nil, noMaster(ctx, a.Inf)
	})

	linkCmd := func(name string, argv func(a *nameArgs) []string) {
		builtin(s, name, func(ctx context.Context, _ *jobs.Job, a *nameArgs) (interface{}, error) {
			if err := iface("name", a.Name); err != nil {
				return nil, err
			}
			_, err := s.ip(ctx, argv(a)...)
			return nil, err
		})
	}
	linkCmd("ip.link.up", func(a *nameArgs) []string { return []string{"link", "set", "dev", a.Name, "up"} })
	linkCmd("ip.link.down", func(a *nameArgs) []string { return []string{"link", "set", "dev", a.Name, "down"} })
	builtin(s, "ip.link.name", func(ctx context.Context, _ *jobs.Job, a *struct {
		Name string `json:"name"`
		New  string `json:"new"`
	}) (interface{}, error) {
		if err := iface("name", a.Name); err != nil {
			return nil, err
		}
		if err := iface("new", a.New); err != nil {
			return nil, err
		}
		_, err := s.ip(ctx, "link", "set", "dev", a.Name, "name", a.New)
		return nil, err
	})
	builtin(s, "ip.link.mtu", func(ctx context.Context, _ *jobs.Job, a *struct {
		Name string `json:"name"`
		MTU  int    `json:"mtu"`
	}) (interface{}, error) {
		if err := iface("name", a.Name); err != nil {
			return nil, err
		}
		if a.MTU < 68 || a.MTU > 65535 {
			return nil, badArg("argument mtu must be 68-65535, got %d", a.MTU)
		}
		_, err := s.ip(ctx, "link", "set", "dev", a.Name, "mtu", strconv.Itoa(a.MTU))
		return nil, err
	})
	builtin(s, "ip.link.list", func(ctx context.Context, _ *jobs.Job, _ *noArgs) (interface{}, error) {
		var raw []struct {
			Name     string   `json:"ifname"`
			Address  string   `json:"address"`
			MTU      int      `json:"mtu"`
			Flags    []string `json:"flags"`
			Master   string   `json:"master"`
			LinkInfo struct {
				Kind string `json:"info_kind"`
			} `json:"linkinfo"`
		}
		if err := s.ipJSON(ctx, &raw, "-d", "link", "show"); err != nil {
			return nil, err
		}
		out := make([]Link, 0, len(raw))
		for _, l := range raw {
			up := false
			for _, f := range l.Flags {
				up = up || f == "UP"
			}
			out = append(out, Link{Name: l.Name, HWAddr: l.Address, MTU: l.MTU, Up: up, Type: l.LinkInfo.Kind, Master: l.Master})
		}
		return out, nil
	})
	type addrArgs struct {
		Name string `json:"name"`
		IP   string `json:"ip"`
	}
	addrCmd := func(name, verb string) {
		builtin(s, name, func(ctx context.Context, _ *jobs.Job, a *addrArgs) (interface{}, error) {
			if err := iface("name", a.Name); err != nil {
				return nil, err
			}
			if err := wrap(validate.CIDR("ip", a.IP)); err != nil {
				return nil, err
			}
			_, err := s.ip(ctx, "addr", verb, a.IP, "dev", a.Name)
			return nil, err
		})
	}
	addrCmd("ip.addr.add", "add")
	addrCmd("ip.addr.del", "del")
	builtin(s, "ip.addr.list", func(ctx context.Context, _ *jobs.Job, a *nameArgs) (interface{}, error) {
		if err := iface("name", a.Name); err != nil {
			return nil, err
		}
		var raw []struct {
			AddrInfo []struct {
				Local     string `json:"local"`
				PrefixLen int    `json:"prefixlen"`
			} `json:"addr_info"`
		}
		if err := s.ipJSON(ctx, &raw, "addr", "show", "dev", a.Name); err != nil {
			return nil, err
		}
		out := []string{}
		for _, l := range raw {
			for _, ai := range l.AddrInfo {
				out = append(out, fmt.Sprintf("%s/%d", ai.Local, ai.PrefixLen))
			}
		}
		return out, nil
	})
	type routeArgs struct {
		Dev string `json:"dev"`
		Dst string `json:"dst"`
		Gw  string `json:"gw"`
	}
	routeCmd := func(name, verb string) {
		builtin(s, name, func(ctx context.Context, _ *jobs.Job, a *routeArgs) (interface{}, error) {
			if err := iface("dev", a.Dev); err != nil {
				return nil, err
			}
			if err := wrap(validate.Network("dst", a.Dst)); err != nil {
				return nil, err
			}
			args := []string{"route", verb, a.Dst}
			if a.Gw != "" {
				if err := wrap(validate.IP("gw", a.Gw)); err != nil {
					return nil, err
				}
				args = append(args, "via", a.Gw)
			}
			_, err := s.ip(ctx, append(args, "dev", a.Dev)...)
			return nil, err
		})
	}
	routeCmd("ip.route.add", "add")
	routeCmd("ip.route.del", "del")
	builtin(s, "ip.route.list", func(ctx context.Context, _ *jobs.Job, _ *noArgs) (interface{}, error) {
		var raw []struct {
			Dst     string `json:"dst"`
			Dev     string `json:"dev"`
			Gateway string `json:"gateway"`
		}
		if err := s.ipJSON(ctx, &raw, "route", "show"); err != nil {
			return nil, err
		}
		out := make([]Route, 0, len(raw))
		for _, r := range raw {
			out = append(out, Route{Dev: r.Dev, Dst: r.Dst, Gw: r.Gateway})
		}
		return out, nil
	})
}
