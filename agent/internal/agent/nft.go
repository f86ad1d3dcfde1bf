package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"zos-build/agent/internal/jobs"
	"zos-build/agent/internal/validate"
)

// Port rules live in table inet filter, chain input, each as
// "[iifname "X" ][ip saddr S ]tcp dport P accept" (0-core's rule text). The
// chain is created with policy accept when missing, so opening a port never
// locks anyone out; closing one deletes only the rule core0 added.
const (
	nftFamily = "inet"
	nftTable  = "filter"
	nftChain  = "input"
)

type portArgs struct {
	Port      int    `json:"port"`
	Interface string `json:"interface"`
	Subnet    string `json:"subnet"`
}

// rule validates the arguments and builds the rule text and nft's argv
// words for it (one word per token, nothing a client typed is parsed by a
// shell; nft sees only validated names and numbers).
func (a *portArgs) rule() (string, []string, error) {
	if a.Port < 1 || a.Port > 65535 {
		return "", nil, badArg("argument port must be 1-65535, got %d", a.Port)
	}
	var text []string
	var words []string
	if a.Interface != "" {
		if err := wrap(validate.Interface("interface", a.Interface)); err != nil {
			return "", nil, err
		}
		text = append(text, fmt.Sprintf("iifname %q", a.Interface))
		words = append(words, "iifname", strconv.Quote(a.Interface))
	}
	if a.Subnet != "" {
		_, n, err := net.ParseCIDR(a.Subnet)
		if err != nil {
			if ip := net.ParseIP(a.Subnet); ip != nil {
				n = &net.IPNet{IP: ip, Mask: net.CIDRMask(len(ip)*8, len(ip)*8)}
			} else {
				return "", nil, badArg("argument subnet must be an address or CIDR, got %q", a.Subnet)
			}
		}
		fam := "ip"
		if n.IP.To4() == nil {
			fam = "ip6"
		}
		text = append(text, fam+" saddr "+n.String())
		words = append(words, fam, "saddr", n.String())
	}
	text = append(text, "tcp dport "+strconv.Itoa(a.Port)+" accept")
	words = append(words, "tcp", "dport", strconv.Itoa(a.Port), "accept")
	return strings.Join(text, " "), words, nil
}

// registerNft adds nft.open_port, nft.drop_port, nft.list, nft.rule_exists.
func (s *Server) registerNft() {
	var mu sync.Mutex         // rule bookkeeping: one change at a time
	rules := map[string]int{} // rule text -> handle
	ensure := func(ctx context.Context) error {
		if _, err := s.runTool(ctx, nil, "nft", "add", "table", nftFamily, nftTable); err != nil {
			return err
		}
		_, err := s.runTool(ctx, nil, "nft", "add", "chain", nftFamily, nftTable, nftChain,
			"{ type filter hook input priority 0 ; policy accept ; }")
		return err
	}
	builtin(s, "nft.open_port", func(ctx context.Context, _ *jobs.Job, a *portArgs) (interface{}, error) {
		text, words, err := a.rule()
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		if _, ok := rules[text]; ok {
			return nil, badArg("rule exists: %s", text)
		}
		if err := ensure(ctx); err != nil {
			return nil, err
		}
		out, err := s.runTool(ctx, nil, "nft", append([]string{"-e", "-a", "-j", "add", "rule", nftFamily, nftTable, nftChain}, words...)...)
		if err != nil {
			return nil, err
		}
		h := handleOf(out)
		if h == 0 {
			// Older nft: no JSON echo. Find the rule in the chain's listing.
			if listing, err := s.runTool(ctx, nil, "nft", "-a", "list", "chain", nftFamily, nftTable, nftChain); err == nil {
				h = handleInListing(string(listing), text)
			}
		}
		rules[text] = h
		return nil, nil
	})
	builtin(s, "nft.drop_port", func(ctx context.Context, _ *jobs.Job, a *portArgs) (interface{}, error) {
		text, _, err := a.rule()
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		h, ok := rules[text]
		if !ok {
			return nil, fmt.Errorf("rule %q: %w (not opened by nft.open_port)", text, os.ErrNotExist)
		}
		if h <= 0 {
			return nil, fmt.Errorf("rule %q: nft did not report its handle; delete it with nft", text)
		}
		if _, err := s.runTool(ctx, nil, "nft", "delete", "rule", nftFamily, nftTable, nftChain, "handle", strconv.Itoa(h)); err != nil {
			return nil, err
		}
		delete(rules, text)
		return nil, nil
	})
	builtin(s, "nft.list", func(_ context.Context, _ *jobs.Job, _ *noArgs) (interface{}, error) {
		mu.Lock()
		defer mu.Unlock()
		out := make([]string, 0, len(rules))
		for r := range rules {
			out = append(out, r)
		}
		return out, nil
	})
	builtin(s, "nft.rule_exists", func(_ context.Context, _ *jobs.Job, a *portArgs) (interface{}, error) {
		text, _, err := a.rule()
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		_, ok := rules[text]
		return ok, nil
	})
}

// handleOf reads the handle of the rule `nft -e -a -j add rule` echoed.
func handleOf(out []byte) int {
	var doc struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	if json.Unmarshal(out, &doc) != nil {
		return 0
	}
	for _, item := range doc.Nftables {
		for _, key := range []string{"add", "insert"} {
			if raw, ok := item[key]; ok {
				var r struct {
					Rule struct {
						Handle int `json:"handle"`
					} `json:"rule"`
				}
				if json.Unmarshal(raw, &r) == nil && r.Rule.Handle > 0 {
					return r.Rule.Handle
				}
			}
		}
		if raw, ok := item["rule"]; ok {
			var r struct {
				Handle int `json:"handle"`
			}
			if json.Unmarshal(raw, &r) == nil && r.Handle > 0 {
				return r.Handle
			}
		}
	}
	return 0
}

// handleInListing finds "<rule text> # handle N" in `nft -a list chain`
// output (the last match: the rule just added).
func handleInListing(listing, text string) int {
	h := 0
	for _, line := range strings.Split(listing, "\n") {
		line = strings.TrimSpace(line)
		i := strings.LastIndex(line, " # handle ")
		if i < 0 || strings.TrimSpace(line[:i]) != text {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSpace(line[i+len(" # handle "):])); err == nil {
			h = n
		}
	}
	return h
}
