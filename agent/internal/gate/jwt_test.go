package gate

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// mint signs a token the way `zos-build agent token` does.
func mint(t *testing.T, key ed25519.PrivateKey, header, claims map[string]interface{}) string {
	t.Helper()
	enc := func(v interface{}) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signed := enc(header) + "." + enc(claims)
	if key == nil {
		return signed + "."
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(key, []byte(signed)))
}

func claims(aud interface{}, ttl time.Duration) map[string]interface{} {
	return map[string]interface{}{"aud": aud, "iat": testNow.Unix(), "exp": testNow.Add(ttl).Unix(), "sub": "op"}
}

var eddsa = map[string]interface{}{"alg": "EdDSA", "typ": "JWT"}

func newKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func TestVerify(t *testing.T) {
	pub, priv := newKey(t)
	pub2, priv2 := newKey(t)
	_, other := newKey(t)
	v := &Verifier{Keys: []ed25519.PublicKey{pub, pub2}, Audiences: []string{"zos-525400123456", "farm:7"},
		Now: func() time.Time { return testNow }}
	good := []string{
		mint(t, priv, eddsa, claims("zos-525400123456", 10*time.Minute)),
		mint(t, priv2, eddsa, claims("farm:7", 10*time.Minute)),
		mint(t, priv, eddsa, claims([]string{"x", "farm:7"}, time.Minute)),
	}
	for _, tok := range good {
		if _, err := v.Verify(tok); err != nil {
			t.Errorf("refused a good token: %v", err)
		}
	}
	noExp := claims("farm:7", 0)
	delete(noExp, "exp")
	future := claims("farm:7", time.Hour)
	future["nbf"] = testNow.Add(time.Hour).Unix()
	bad := map[string]struct{ tok, why string }{
		"alg none":       {mint(t, nil, map[string]interface{}{"alg": "none"}, claims("farm:7", time.Minute)), "only EdDSA"},
		"unsigned EdDSA": {mint(t, nil, eddsa, claims("farm:7", time.Minute)), "none of the 2 operator key"},
		"other key":      {mint(t, other, eddsa, claims("farm:7", time.Minute)), "none of the 2 operator key"},
		"expired":        {mint(t, priv, eddsa, claims("farm:7", -time.Second)), "expired at"},
		"other node":     {mint(t, priv, eddsa, claims("zos-525400999999", time.Minute)), "audience"},
		"other farm":     {mint(t, priv, eddsa, claims("farm:8", time.Minute)), "audience"},
		"no audience":    {mint(t, priv, eddsa, map[string]interface{}{"exp": testNow.Add(time.Minute).Unix()}), "audience"},
		"no exp":         {mint(t, priv, eddsa, noExp), "no exp"},
		"too long":       {mint(t, priv, eddsa, claims("farm:7", 25*time.Hour)), "short-lived"},
		"not yet valid":  {mint(t, priv, eddsa, future), "not valid before"},
		"HS256": {mint(t, priv, map[string]interface{}{"alg": "HS256"}, claims("farm:7", time.Minute)),
			"only EdDSA"},
		"password": {"zos-qemu-test", "not a JWT"},
		"huge":     {strings.Repeat("a", MaxTokenBytes+1), "longer than"},
	}
	for name, c := range bad {
		_, err := v.Verify(c.tok)
		if err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s: want an error with %q, got %v", name, c.why, err)
		}
	}
	// A valid signature over a payload changed afterwards.
	parts := strings.Split(good[0], ".")
	forged := claims("farm:7", time.Minute)
	b, _ := json.Marshal(forged)
	if _, err := v.Verify(parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]); err == nil {
		t.Error("accepted a token whose payload was changed after signing")
	}
}

func TestParseKeys(t *testing.T) {
	pub, _ := newKey(t)
	pub2, _ := newKey(t)
	keys, err := ParseKeys(FormatKey(pub) + "," + FormatKey(pub2))
	if err != nil || len(keys) != 2 || !keys[0].Equal(pub) || !keys[1].Equal(pub2) {
		t.Fatalf("%v %v", keys, err)
	}
	if keys, err := ParseKeys(""); err != nil || len(keys) != 0 {
		t.Fatalf("empty list: %v %v", keys, err)
	}
	short := "ed25519:" + base64.RawURLEncoding.EncodeToString(pub[:31])
	for _, bad := range []string{"ssh-ed25519:AAAA", "ed25519:!!", short} {
		if _, err := ParseKeys(FormatKey(pub) + "," + bad); err == nil || !strings.Contains(err.Error(), "operator key 2") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
