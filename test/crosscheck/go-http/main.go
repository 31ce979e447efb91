// Command monitor reads a Trailkeep workspace's log over HTTP the way an outside auditor would,
// with Go's golang.org/x/mod/sumdb/tlog and sumdb/note (independent of Trailkeep's TypeScript):
// it opens the C2SP checkpoint with the verifier key, rebuilds the root from the served tiles,
// checks every tile and entry bundle, and checks inclusion proofs (tlog-proof) of given events
// and consistency proofs between given sizes. Run by test/crosscheck/log-http-go.test.ts.
//
// Builds offline against Debian's golang-golang-x-mod-dev: GO111MODULE=off GOPATH=/usr/share/gocode.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const height = 8

var (
	base   = flag.String("url", "", "the workspace's API base, e.g. http://127.0.0.1:1234/api/v1/workspaces/acme")
	vkey   = flag.String("vkey", "", "the log's verifier key")
	origin = flag.String("origin", "", "the checkpoint origin expected")
	key    = flag.String("key", "", "a read API key (empty for a public log)")
	events = flag.String("events", "", "id=hexhash,... events whose inclusion to check")
	pairs  = flag.String("consistency", "", "from:to,... sizes whose consistency to check")
)

func get(path string) ([]byte, error) {
	req, err := http.NewRequest("GET", *base+"/"+path, nil)
	if err != nil {
		return nil, err
	}
	if *key != "" {
		req.Header.Set("Authorization", "Bearer "+*key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %d %s", path, res.StatusCode, body)
	}
	return body, nil
}

// openCheckpoint verifies a signed note with the log's key and parses the C2SP checkpoint in it.
func openCheckpoint(text []byte) (tlog.Tree, error) {
	verifier, err := note.NewVerifier(*vkey)
	if err != nil {
		return tlog.Tree{}, err
	}
	n, err := note.Open(text, note.VerifierList(verifier))
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("the checkpoint does not verify: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 || lines[0] != *origin {
		return tlog.Tree{}, fmt.Errorf("the checkpoint is not for origin %q: %q", *origin, n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return tlog.Tree{}, err
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return tlog.Tree{}, fmt.Errorf("bad root %q", lines[2])
	}
	var h tlog.Hash
	copy(h[:], root)
	return tlog.Tree{N: size, Hash: h}, nil
}

// C2SP tlog-tiles paths have no height element: Go's tile/8/L/N is tile/L/N.
func tilePath(t tlog.Tile) string {
	return "log/tile/" + strings.TrimPrefix(t.Path(), "tile/8/")
}

type httpTiles struct{ fetched int }

func (r *httpTiles) Height() int { return height }

func (r *httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := get(tilePath(t))
		if err != nil {
			return nil, err
		}
		r.fetched++
		data[i] = b
	}
	return data, nil
}

func (r *httpTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

func decodeBundle(b []byte) ([][]byte, error) {
	var entries [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, errors.New("cut length")
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			return nil, errors.New("cut entry")
		}
		entries = append(entries, b[2:2+n])
		b = b[2+n:]
	}
	return entries, nil
}

// parseTlogProof reads c2sp.org/tlog-proof@v1: header, [extra], index, hashes, blank, checkpoint.
func parseTlogProof(text []byte) (int64, tlog.RecordProof, []byte, error) {
	lines := strings.SplitN(string(text), "\n", -1)
	if lines[0] != "c2sp.org/tlog-proof@v1" {
		return 0, nil, nil, errors.New("not a tlog-proof")
	}
	i := 1
	if strings.HasPrefix(lines[i], "extra ") {
		i++
	}
	if !strings.HasPrefix(lines[i], "index ") {
		return 0, nil, nil, errors.New("no index line")
	}
	index, err := strconv.ParseInt(strings.TrimPrefix(lines[i], "index "), 10, 64)
	if err != nil {
		return 0, nil, nil, err
	}
	var proof tlog.RecordProof
	for i++; lines[i] != ""; i++ {
		h, err := base64.StdEncoding.DecodeString(lines[i])
		if err != nil || len(h) != tlog.HashSize {
			return 0, nil, nil, fmt.Errorf("bad proof line %q", lines[i])
		}
		var hash tlog.Hash
		copy(hash[:], h)
		proof = append(proof, hash)
	}
	return index, proof, []byte(strings.Join(lines[i+1:], "\n")), nil
}

func run() (map[string]int, error) {
	counts := map[string]int{}
	checkpoint, err := get("log/checkpoint")
	if err != nil {
		return nil, err
	}
	tree, err := openCheckpoint(checkpoint)
	if err != nil {
		return nil, err
	}
	tiles := &httpTiles{}
	// TileHashReader checks every tile it reads against the checkpoint's root.
	hr := tlog.TileHashReader(tree, tiles)
	root, err := tlog.TreeHash(tree.N, hr)
	if err != nil {
		return nil, fmt.Errorf("the tiles do not rebuild the root: %v", err)
	}
	if root != tree.Hash {
		return nil, errors.New("the tiles' root is not the checkpoint's")
	}
	for _, t := range tlog.NewTiles(height, 0, tree.N) {
		served, err := get(tilePath(t))
		if err != nil {
			return nil, err
		}
		want, err := tlog.ReadTileData(t, hr)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(served, want) {
			return nil, fmt.Errorf("%s differs from the tree's hashes", tilePath(t))
		}
		counts["tiles"]++
		if t.L != 0 {
			continue
		}
		bundle, err := get("log/tile/entries/" + strings.TrimPrefix(t.Path(), "tile/8/0/"))
		if err != nil {
			return nil, err
		}
		entries, err := decodeBundle(bundle)
		if err != nil || len(entries) != t.W {
			return nil, fmt.Errorf("entry bundle %d: %v (%d entries)", t.N, err, len(entries))
		}
		for i, e := range entries {
			if h := tlog.RecordHash(e); !bytes.Equal(h[:], want[i*32:(i+1)*32]) {
				return nil, fmt.Errorf("entry %d of bundle %d is not its leaf", i, t.N)
			}
		}
		counts["bundles"]++
	}
	for _, item := range strings.Split(*events, ",") {
		if item == "" {
			continue
		}
		id, hash, _ := strings.Cut(item, "=")
		entry, err := hex.DecodeString(hash)
		if err != nil {
			return nil, err
		}
		text, err := get("events/" + id + "/proof")
		if err != nil {
			return nil, err
		}
		index, proof, cp, err := parseTlogProof(text)
		if err != nil {
			return nil, err
		}
		at, err := openCheckpoint(cp)
		if err != nil {
			return nil, err
		}
		leaf := tlog.RecordHash(entry)
		if err := tlog.CheckRecord(proof, at.N, at.Hash, index, leaf); err != nil {
			return nil, fmt.Errorf("the proof of %s does not verify: %v", id, err)
		}
		if len(proof) > 0 {
			proof[0][0] ^= 1
			if tlog.CheckRecord(proof, at.N, at.Hash, index, leaf) == nil {
				return nil, fmt.Errorf("an altered proof of %s verifies", id)
			}
		}
		counts["inclusion"]++
	}
	for _, item := range strings.Split(*pairs, ",") {
		if item == "" {
			continue
		}
		a, b, _ := strings.Cut(item, ":")
		from, _ := strconv.ParseInt(a, 10, 64)
		to, _ := strconv.ParseInt(b, 10, 64)
		text, err := get("log/consistency?from=" + a + "&to=" + b)
		if err != nil {
			return nil, err
		}
		var proof tlog.TreeProof
		for _, line := range strings.Split(strings.TrimSuffix(string(text), "\n"), "\n") {
			if line == "" {
				continue
			}
			h, err := base64.StdEncoding.DecodeString(line)
			if err != nil || len(h) != tlog.HashSize {
				return nil, fmt.Errorf("bad consistency line %q", line)
			}
			var hash tlog.Hash
			copy(hash[:], h)
			proof = append(proof, hash)
		}
		oldRoot, err := tlog.TreeHash(from, hr)
		if err != nil {
			return nil, err
		}
		newRoot, err := tlog.TreeHash(to, hr)
		if err != nil {
			return nil, err
		}
		// Go's CheckTree takes old sizes from 1: the empty tree is a prefix of every tree, with
		// nothing to prove.
		if from == 0 {
			if len(proof) != 0 {
				return nil, fmt.Errorf("consistency 0..%d is not empty", to)
			}
		} else if err := tlog.CheckTree(proof, to, newRoot, from, oldRoot); err != nil {
			return nil, fmt.Errorf("consistency %d..%d does not verify: %v", from, to, err)
		}
		counts["consistency"]++
	}
	counts["size"] = int(tree.N)
	counts["tileReads"] = tiles.fetched
	return counts, nil
}

func main() {
	flag.Parse()
	counts, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, _ := json.Marshal(counts)
	fmt.Println(string(out))
}
