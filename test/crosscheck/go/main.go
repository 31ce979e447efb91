// Command crosscheck answers test/crosscheck/tlog-go.test.ts with the results of Go's
// golang.org/x/mod/sumdb/tlog and sumdb/note (an implementation independent of ours) for the same
// inputs: leaf hashes, roots, inclusion and consistency proofs, tiles, and signed notes.
//
// It reads one JSON request on stdin and writes one JSON answer on stdout. It builds offline
// against Debian's golang-golang-x-mod-dev: GO111MODULE=off GOPATH=/usr/share/gocode.
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type pair struct {
	A int64 `json:"a"`
	B int64 `json:"b"`
}

type request struct {
	Entries     []string          `json:"entries"`
	Roots       []int64           `json:"roots"`
	Inclusion   []pair            `json:"inclusion"`   // a = index, b = size
	Consistency []pair            `json:"consistency"` // a = old size, b = new size
	TileSize    int64             `json:"tileSize"`
	Tiles       map[string]string `json:"tiles"` // our tiles of the tree of tileSize leaves
	NewTiles    []pair            `json:"newTiles"`
	OurProofs   []ourProof        `json:"ourProofs"`
	Note        *signedNote       `json:"note"`
	Sign        *toSign           `json:"sign"`
	Cosigned    *cosigned         `json:"cosigned"`
	Paths       []tile            `json:"paths"`
}

type tile struct {
	Level int   `json:"level"`
	Index int64 `json:"index"`
	Width int   `json:"width"`
}

type ourProof struct {
	Kind  string   `json:"kind"` // "inclusion" or "consistency"
	A     int64    `json:"a"`
	B     int64    `json:"b"`
	Proof []string `json:"proof"`
}

type signedNote struct {
	Note string `json:"note"`
	Vkey string `json:"vkey"`
}

type toSign struct {
	Text string `json:"text"`
	Skey string `json:"skey"`
}

type cosigned struct {
	Note        string `json:"note"`
	LogVkey     string `json:"logVkey"`
	WitnessVkey string `json:"witnessVkey"`
}

type noteAnswer struct {
	OK       bool     `json:"ok"`
	Error    string   `json:"error,omitempty"`
	Text     string   `json:"text,omitempty"`
	Verified []string `json:"verified,omitempty"`
}

type answer struct {
	LeafHashes      []string          `json:"leafHashes"`
	Roots           map[string]string `json:"roots"`
	Inclusion       [][]string        `json:"inclusion"`
	Consistency     [][]string        `json:"consistency"`
	Tiles           map[string]string `json:"tiles"`
	TileRoot        string            `json:"tileRoot"`
	TileInclusion   [][]string        `json:"tileInclusion"`
	TileConsistency [][]string        `json:"tileConsistency"`
	NewTiles        []map[string]int  `json:"newTiles"`
	OurProofs       []string          `json:"ourProofs"`
	Note            *noteAnswer       `json:"note,omitempty"`
	Signed          string            `json:"signed,omitempty"`
	Cosigned        *noteAnswer       `json:"cosigned,omitempty"`
	CosignatureTime map[string]uint64 `json:"cosignatureTime,omitempty"`
	Paths           []string          `json:"paths"`
}

// storage keeps every hash Go's tlog stores, at its stored-hash index.
type storage []tlog.Hash

func (s storage) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(s)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = s[x]
	}
	return out, nil
}

// c2spPath turns Go's tile path (tile/8/L/N…) into tlog-tiles' (tile/L/N…).
func c2spPath(t tlog.Tile) string {
	return "tile/" + strings.TrimPrefix(t.Path(), "tile/8/")
}

// ourTiles serves the tiles our code computed; Go's TileHashReader checks each against the tree.
type ourTiles map[string]string

func (o ourTiles) Height() int { return 8 }

func (o ourTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, ok := o[c2spPath(t)]
		if !ok {
			return nil, fmt.Errorf("no tile %s", c2spPath(t))
		}
		b, err := hex.DecodeString(data)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (o ourTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func hexes(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = hex.EncodeToString(h[:])
	}
	return out
}

func unhexes(ss []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			return nil, fmt.Errorf("bad hash %q", s)
		}
		copy(out[i][:], b)
	}
	return out, nil
}

// cosigVerifier checks tlog-cosignature v1 signatures (type 0x04), which x/mod's note package
// does not know: it plugs into note.Open, which does the parsing.
type cosigVerifier struct {
	name string
	hash uint32
	key  ed25519.PublicKey
	seen map[string]uint64
}

func (v *cosigVerifier) Name() string    { return v.name }
func (v *cosigVerifier) KeyHash() uint32 { return v.hash }
func (v *cosigVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	signed := append([]byte("cosignature/v1\ntime "+strconv.FormatUint(t, 10)+"\n"), msg...)
	if !ed25519.Verify(v.key, signed, sig[8:]) {
		return false
	}
	v.seen[v.name] = t
	return true
}

func newCosigVerifier(vkey string) (*cosigVerifier, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return nil, errors.New("bad cosigner vkey")
	}
	key, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(key) != 1+ed25519.PublicKeySize || key[0] != 0x04 {
		return nil, errors.New("bad cosigner key")
	}
	h := sha256.Sum256(append([]byte(parts[0]+"\n"), key...))
	id := binary.BigEndian.Uint32(h[:4])
	if fmt.Sprintf("%08x", id) != parts[1] {
		return nil, errors.New("cosigner key id does not match")
	}
	return &cosigVerifier{name: parts[0], hash: id, key: key[1:], seen: map[string]uint64{}}, nil
}

func open(msg string, verifiers ...note.Verifier) *noteAnswer {
	n, err := note.Open([]byte(msg), note.VerifierList(verifiers...))
	if err != nil {
		return &noteAnswer{OK: false, Error: err.Error()}
	}
	a := &noteAnswer{OK: true, Text: n.Text}
	for _, s := range n.Sigs {
		a.Verified = append(a.Verified, s.Name)
	}
	return a
}

func run() error {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		return err
	}
	ans := answer{Roots: map[string]string{}, Tiles: map[string]string{}}

	var store storage
	for i, e := range req.Entries {
		entry, err := hex.DecodeString(e)
		if err != nil {
			return err
		}
		hashes, err := tlog.StoredHashes(int64(i), entry, store)
		if err != nil {
			return err
		}
		store = append(store, hashes...)
		ans.LeafHashes = append(ans.LeafHashes, hex.EncodeToString(hashes[0][:]))
	}
	for _, n := range req.Roots {
		h, err := tlog.TreeHash(n, store)
		if err != nil {
			return err
		}
		ans.Roots[strconv.FormatInt(n, 10)] = hex.EncodeToString(h[:])
	}
	for _, p := range req.Inclusion {
		proof, err := tlog.ProveRecord(p.B, p.A, store)
		if err != nil {
			return err
		}
		ans.Inclusion = append(ans.Inclusion, hexes(proof))
	}
	for _, p := range req.Consistency {
		proof, err := tlog.ProveTree(p.B, p.A, store)
		if err != nil {
			return err
		}
		ans.Consistency = append(ans.Consistency, hexes(proof))
	}
	for _, p := range req.OurProofs {
		hashes, err := unhexes(p.Proof)
		if err != nil {
			return err
		}
		var verr error
		if p.Kind == "inclusion" {
			root, _ := tlog.TreeHash(p.B, store)
			leaf := store[tlog.StoredHashIndex(0, p.A)]
			verr = tlog.CheckRecord(hashes, p.B, root, p.A, leaf)
		} else {
			newRoot, _ := tlog.TreeHash(p.B, store)
			oldRoot, _ := tlog.TreeHash(p.A, store)
			verr = tlog.CheckTree(hashes, p.B, newRoot, p.A, oldRoot)
		}
		if verr != nil {
			ans.OurProofs = append(ans.OurProofs, verr.Error())
		} else {
			ans.OurProofs = append(ans.OurProofs, "ok")
		}
	}

	if req.TileSize > 0 {
		// Go's own tiles for the tree: the widest version of each.
		for _, t := range tlog.NewTiles(8, 0, req.TileSize) {
			data, err := tlog.ReadTileData(t, store)
			if err != nil {
				return err
			}
			ans.Tiles[strings.SplitN(c2spPath(t), ".p/", 2)[0]] = hex.EncodeToString(data)
		}
		// Our tiles, read through Go's authenticating tile reader.
		root, err := tlog.TreeHash(req.TileSize, store)
		if err != nil {
			return err
		}
		reader := tlog.TileHashReader(tlog.Tree{N: req.TileSize, Hash: root}, ourTiles(req.Tiles))
		h, err := tlog.TreeHash(req.TileSize, reader)
		if err != nil {
			return err
		}
		ans.TileRoot = hex.EncodeToString(h[:])
		for _, p := range req.Inclusion {
			if p.B != req.TileSize {
				continue
			}
			proof, err := tlog.ProveRecord(p.B, p.A, reader)
			if err != nil {
				return err
			}
			ans.TileInclusion = append(ans.TileInclusion, hexes(proof))
		}
		for _, p := range req.Consistency {
			if p.B != req.TileSize {
				continue
			}
			proof, err := tlog.ProveTree(p.B, p.A, reader)
			if err != nil {
				return err
			}
			ans.TileConsistency = append(ans.TileConsistency, hexes(proof))
		}
	}
	for _, p := range req.NewTiles {
		widest := map[string]int{}
		for _, t := range tlog.NewTiles(8, p.A, p.B) {
			path := strings.SplitN(c2spPath(t), ".p/", 2)[0]
			if t.W > widest[path] {
				widest[path] = t.W
			}
		}
		ans.NewTiles = append(ans.NewTiles, widest)
	}

	if req.Note != nil {
		v, err := note.NewVerifier(req.Note.Vkey)
		if err != nil {
			return err
		}
		ans.Note = open(req.Note.Note, v)
	}
	if req.Sign != nil {
		s, err := note.NewSigner(req.Sign.Skey)
		if err != nil {
			return err
		}
		msg, err := note.Sign(&note.Note{Text: req.Sign.Text}, s)
		if err != nil {
			return err
		}
		ans.Signed = string(msg)
	}
	if req.Cosigned != nil {
		logV, err := note.NewVerifier(req.Cosigned.LogVkey)
		if err != nil {
			return err
		}
		cosigner, err := newCosigVerifier(req.Cosigned.WitnessVkey)
		if err != nil {
			return err
		}
		ans.Cosigned = open(req.Cosigned.Note, logV, cosigner)
		ans.CosignatureTime = cosigner.seen
	}
	for _, t := range req.Paths {
		ans.Paths = append(ans.Paths, c2spPath(tlog.Tile{H: 8, L: t.Level, N: t.Index, W: t.Width}))
	}
	return json.NewEncoder(os.Stdout).Encode(ans)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "crosscheck:", err)
		os.Exit(1)
	}
}
