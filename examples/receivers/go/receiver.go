// Herald receiver, every scheme, Go standard library only.
// Run: PORT=3000 SECRET=whsec_... RESULTS_FILE=results.log go run receiver.go
//
//	or: PORT=3000 PUBLIC_KEY=whpk_... SCHEME=ed25519 RESULTS_FILE=results.log go run receiver.go
//	or: PORT=3000 SECRET=... SCHEME=hmac-sha256 HEADER=X-AdFlow-Signature ENCODING=hex RESULTS_FILE=results.log go run receiver.go
package main

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

const toleranceSeconds = 5 * 60

var (
	port        = getenv("PORT", "3000")
	secret      = os.Getenv("SECRET")
	publicKey   = os.Getenv("PUBLIC_KEY")
	scheme      = getenv("SCHEME", "standard")
	header      = getenv("HEADER", "X-AdFlow-Signature")
	encoding    = getenv("ENCODING", "hex")
	resultsFile = getenv("RESULTS_FILE", "results.log")
)

func getenv(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// verifyStandard returns "" when the request is authentic, else why it is not
// (Standard Webhooks: `v1` HMAC signatures, or `v1a` ed25519 ones with SCHEME=ed25519).
func verifyStandard(h http.Header, rawBody []byte) string {
	id, timestamp, signatures := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || timestamp == "" || signatures == "" {
		return "missing_header"
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || strings.Trim(timestamp, "0123456789") != "" {
		return "invalid_timestamp"
	}
	age := time.Now().Unix() - ts
	if age > toleranceSeconds {
		return "timestamp_too_old"
	}
	if age < -toleranceSeconds {
		return "timestamp_too_new"
	}
	if scheme == "ed25519" {
		if verifyEd25519(signatures, append([]byte(id+"."+timestamp+"."), rawBody...)) {
			return ""
		}
		return "no_matching_signature"
	}
	// The key is the base64 after the `whsec_` prefix, decoded to bytes.
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		panic("SECRET must be whsec_ followed by base64")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(rawBody) // the bytes exactly as received
	expected := []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	// "v1,<sig> v1,<sig>": one signature per live secret while Herald rotates it.
	for _, candidate := range strings.Split(signatures, " ") {
		version, signature, _ := strings.Cut(candidate, ",")
		if version == "v1" && hmac.Equal([]byte(signature), expected) {
			return ""
		}
	}
	return "no_matching_signature"
}

// verifyEd25519 reports whether one of the `v1a` signatures is the endpoint's signature of content
// (the id, the timestamp and the body's bytes exactly as received).
func verifyEd25519(signatures string, content []byte) bool {
	// The public key is the base64 after `whpk_`: the raw 32-byte ed25519 key.
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(publicKey, "whpk_"))
	if err != nil || len(key) != ed25519.PublicKeySize {
		panic("PUBLIC_KEY must be whpk_ followed by the base64 of 32 bytes")
	}
	// "v1a,<sig> v1a,<sig>": one signature per live key while Herald rotates it.
	for _, candidate := range strings.Split(signatures, " ") {
		version, signature, _ := strings.Cut(candidate, ",")
		sig, err := base64.StdEncoding.DecodeString(signature)
		if version == "v1a" && err == nil && len(sig) == ed25519.SignatureSize && ed25519.Verify(ed25519.PublicKey(key), content, sig) {
			return true
		}
	}
	return false
}

// verifyHMAC returns "" when the request is authentic, else why it is not.
func verifyHMAC(h http.Header, rawBody []byte) string {
	current := h.Get(header)
	if current == "" || h.Get("webhook-id") == "" {
		return "missing_header"
	}
	// The key is the secret string's UTF-8 bytes; the HMAC covers the raw body only.
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(rawBody)
	var expected []byte
	if encoding == "hex" {
		expected = []byte(hex.EncodeToString(mac.Sum(nil)))
	} else {
		expected = []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	// While Herald rotates the secret, the old secret's signature is in `<header>-previous`.
	candidates := append([]string{current}, strings.Split(h.Get(header+"-previous"), " ")...)
	for _, signature := range candidates {
		if signature != "" && hmac.Equal([]byte(signature), expected) {
			return ""
		}
	}
	return "no_matching_signature"
}

var (
	mu   sync.Mutex
	seen = map[string]bool{} // Herald delivers at least once: remember processed ids (use your database in production).
)

func record(line string) {
	mu.Lock()
	defer mu.Unlock()
	f, err := os.OpenFile(resultsFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}

func handle(w http.ResponseWriter, r *http.Request) {
	rawBody, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20)) // raw bytes, at most 1 MiB
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	var problem string
	if scheme == "hmac-sha256" {
		problem = verifyHMAC(r.Header, rawBody)
	} else {
		problem = verifyStandard(r.Header, rawBody)
	}
	var event map[string]any
	if problem == "" && json.Unmarshal(rawBody, &event) != nil { // parse only after verifying
		problem = "invalid_body"
	}
	if problem != "" {
		record("bad " + problem)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	id := r.Header.Get("webhook-id")
	mu.Lock()
	duplicate := seen[id]
	seen[id] = true
	mu.Unlock()
	if duplicate {
		record("dup " + id)
	} else {
		// ...handle event here...
		record("ok " + id)
	}
	w.WriteHeader(http.StatusNoContent)
}

func main() {
	http.HandleFunc("/", handle)
	if err := http.ListenAndServe("127.0.0.1:"+port, nil); err != nil {
		panic(err)
	}
}
