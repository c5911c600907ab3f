// The anchor of bench/gossip_memberlist.sh: N hashicorp/memberlist instances (Debian's
// golang-github-hashicorp-memberlist-dev, 0.2.2, with Lifeguard) in one process on 127.0.0.1,
// driven through the same phases as pool_bench (bench/gossip/pool_bench.cc) and printing the
// same key=value lines, so the script can put the two side by side.
//
// Phases: create N members (kernel-chosen ports), join each to member 0, wait until every
// member counts N alive, warm up (the join broadcasts drain), then a steady state of S
// seconds with nobody failing, then K kills one at a time (Shutdown() without Leave: the
// others must find the member failed), each timed from the moment Shutdown() returned to the
// first survivor's and to the last survivor's NotifyLeave about it.
//
// What is counted, and how:
//   - "dead": EventDelegate.NotifyLeave. memberlist calls it when a member becomes dead or
//     left; nobody leaves here, so every call is a death. A NotifyLeave about a member that is
//     running is a false dead.
//   - suspicions: memberlist's "memberlist.msg.suspect" counter (go-metrics, a sink of our
//     own), which suspectNode increments each time a member starts suspecting another. All
//     instances share the process-wide go-metrics, so the count is the sum over members, as
//     pool_bench's sum of the cores' `suspicions`.
//   - bytes: each member's transport is the stock NetTransport behind a counting Transport:
//     UDP = the payload of every WriteTo that succeeded (memberlist's whole datagram: message,
//     compression, CRC, labels; no IP/UDP headers); TCP = the bytes written to every stream
//     connection, dialed or accepted (push-pulls, TCP pings, their answers; no TCP/IP headers).
//     Datagrams a loss rule drops on the receiving side were still sent and are counted.
//
// Build (offline, GOPATH mode, from Debian's /usr/share/gocode):
//
//	GO111MODULE=off GOPATH=$tmp:/usr/share/gocode GOPROXY=off go build -o memberlist_anchor .
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	metrics "github.com/armon/go-metrics"
	"github.com/hashicorp/memberlist"
)

// ---- counting transport ---------------------------------------------------------------------

type byteCounters struct {
	udpPackets, udpBytes, tcpBytes uint64
}

type countingConn struct {
	net.Conn
	c *byteCounters
}

func (cc *countingConn) Write(b []byte) (int, error) {
	n, err := cc.Conn.Write(b)
	atomic.AddUint64(&cc.c.tcpBytes, uint64(n))
	return n, err
}

// countingTransport forwards everything to a NetTransport and counts what is sent. It
// implements the plain Transport interface; memberlist wraps it in its own shim (and logs at
// debug that it is not node-aware), which calls WriteTo and DialTimeout. NetTransport's
// node-aware methods ignore the node name and do exactly what those two do, so the members
// behave as with the stock transport.
type countingTransport struct {
	inner   *memberlist.NetTransport
	c       byteCounters
	streams chan net.Conn
	done    chan struct{}
}

func newCountingTransport(bind string) (*countingTransport, int, error) {
	var nt *memberlist.NetTransport
	var err error
	// Port 0 for TCP, then the same port for UDP, can race another socket: retry as memberlist
	// does for its own transport.
	for try := 0; try < 10; try++ {
		nt, err = memberlist.NewNetTransport(&memberlist.NetTransportConfig{
			BindAddrs: []string{bind},
			BindPort:  0,
			Logger:    log.New(io.Discard, "", 0),
		})
		if err == nil {
			break
		}
	}
	if err != nil {
		return nil, 0, err
	}
	t := &countingTransport{inner: nt, streams: make(chan net.Conn), done: make(chan struct{})}
	go t.forwardStreams()
	return t, nt.GetAutoBindPort(), nil
}

func (t *countingTransport) forwardStreams() {
	for {
		select {
		case conn := <-t.inner.StreamCh():
			select {
			case t.streams <- &countingConn{Conn: conn, c: &t.c}:
			case <-t.done:
				conn.Close()
				return
			}
		case <-t.done:
			return
		}
	}
}

func (t *countingTransport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	return t.inner.FinalAdvertiseAddr(ip, port)
}

func (t *countingTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	at, err := t.inner.WriteTo(b, addr)
	if err == nil {
		atomic.AddUint64(&t.c.udpPackets, 1)
		atomic.AddUint64(&t.c.udpBytes, uint64(len(b)))
	}
	return at, err
}

func (t *countingTransport) PacketCh() <-chan *memberlist.Packet { return t.inner.PacketCh() }

func (t *countingTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	conn, err := t.inner.DialTimeout(addr, timeout)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, c: &t.c}, nil
}

func (t *countingTransport) StreamCh() <-chan net.Conn { return t.streams }

func (t *countingTransport) Shutdown() error {
	close(t.done)
	return t.inner.Shutdown()
}

// ---- suspicion counter (go-metrics sink) ----------------------------------------------------

type suspectSink struct {
	metrics.BlackholeSink
	suspicions uint64
}

func (s *suspectSink) IncrCounter(key []string, val float32) {
	if strings.HasSuffix(strings.Join(key, "."), "memberlist.msg.suspect") {
		atomic.AddUint64(&s.suspicions, uint64(val))
	}
}

func (s *suspectSink) IncrCounterWithLabels(key []string, val float32, _ []metrics.Label) {
	s.IncrCounter(key, val)
}

// ---- events and meta ------------------------------------------------------------------------

type deadEvent struct {
	observer int
	name     string
	at       time.Time
}

// recorder holds every NotifyLeave and which members are running (a death of a running member
// is false).
type recorder struct {
	mu        sync.Mutex
	dead      []deadEvent
	stopped   map[string]bool
	falseDead int
}

func (r *recorder) add(observer int, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dead = append(r.dead, deadEvent{observer, name, time.Now()})
	if !r.stopped[name] {
		r.falseDead++
	}
}

func (r *recorder) falseDeadNow() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.falseDead
}

type eventDelegate struct {
	index int
	rec   *recorder
}

func (e *eventDelegate) NotifyJoin(*memberlist.Node)   {}
func (e *eventDelegate) NotifyUpdate(*memberlist.Node) {}
func (e *eventDelegate) NotifyLeave(n *memberlist.Node) {
	e.rec.add(e.index, n.Name)
}

// metaDelegate gives each member a meta of the same size as pool_bench's (serf tags in
// Consul); nothing else.
type metaDelegate struct{ meta []byte }

func (d *metaDelegate) NodeMeta(limit int) []byte {
	if len(d.meta) > limit {
		return d.meta[:limit]
	}
	return d.meta
}
func (d *metaDelegate) NotifyMsg([]byte)                           {}
func (d *metaDelegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *metaDelegate) LocalState(join bool) []byte                { return nil }
func (d *metaDelegate) MergeRemoteState(buf []byte, join bool)     {}

// ---- the run --------------------------------------------------------------------------------

type member struct {
	name      string
	addr      string
	ml        *memberlist.Memberlist
	transport *countingTransport
	running   bool
}

func die(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "memberlist_anchor: "+format+"\n", args...)
	os.Exit(1)
}

func progress(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "%s memberlist: %s\n", time.Now().Format("15:04:05"),
		fmt.Sprintf(format, args...))
}

// memberName, memberMeta and metaDigest are the same in pool_bench.
func memberName(i int) string { return fmt.Sprintf("gossip-bench-node-%04d", i) }

// splitmix64: a tiny generator both programs implement alike.
type splitmix struct{ s uint64 }

func (g *splitmix) next() uint64 {
	g.s += 0x9E3779B97F4A7C15
	z := g.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// memberMeta looks like a Consul client's LAN tags (shared keys, a random node id and build
// hash), padded with random hex to `size` bytes: about as compressible as real tags, so
// memberlist's compression gets neither a free ride nor nothing to work with.
func memberMeta(i, size int) []byte {
	g := splitmix{uint64(i) + 1}
	h := fmt.Sprintf("%016x%016x", g.next(), g.next())
	meta := fmt.Sprintf("role=node dc=dc1 segment= id=%s-%s-%s-%s-%s vsn=2 vsn_min=2 vsn_max=3 build=1.17.0:%08x",
		h[0:8], h[8:12], h[12:16], h[16:20], h[20:32], uint32(g.next()))
	for len(meta) < size {
		meta += fmt.Sprintf("%016x", g.next())
	}
	return []byte(meta[:size])
}

// metaDigest is FNV-1a (64-bit) over every member's meta in order: the script checks that
// both programs gave their members the same bytes.
func metaDigest(n, size int) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < n; i++ {
		for _, b := range memberMeta(i, size) {
			h ^= uint64(b)
			h *= 1099511628211
		}
	}
	return h
}

// nearestRank is the p-th percentile by nearest rank (p99 of 10 samples is the maximum).
func nearestRank(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	r := int(math.Ceil(p / 100 * float64(len(sorted))))
	if r < 1 {
		r = 1
	}
	if r > len(sorted) {
		r = len(sorted)
	}
	return sorted[r-1]
}

type options struct {
	n, steadyS, kills, warmupS, settleS, metaBytes int
	profile, bind, logPath                         string
	compression                                    bool
}

func parseFlags() options {
	var o options
	flag.IntVar(&o.n, "members", 100, "members in the pool")
	flag.IntVar(&o.steadyS, "steady-s", 120, "seconds of steady state (nobody fails)")
	flag.IntVar(&o.kills, "kills", 10, "members killed one at a time after the steady state")
	flag.IntVar(&o.warmupS, "warmup-s", 15, "seconds between convergence and the steady state")
	flag.IntVar(&o.settleS, "settle-s", 5, "seconds after a kill is seen everywhere before the next")
	flag.StringVar(&o.profile, "profile", "lan", "lan (DefaultLANConfig) or local (DefaultLocalConfig)")
	flag.IntVar(&o.metaBytes, "meta-bytes", 160, "size of each member's meta")
	flag.StringVar(&o.bind, "bind", "127.0.0.1", "address every member binds")
	flag.StringVar(&o.logPath, "log", "", "memberlist's own log (default: discarded)")
	flag.BoolVar(&o.compression, "compression", true,
		"memberlist's EnableCompression (on in both profiles; off shows what it saves)")
	flag.Parse()
	if o.n < 3 || o.n > 5000 || o.steadyS < 0 || o.kills < 0 || o.kills > o.n-2 || o.warmupS < 0 ||
		o.settleS < 0 || o.metaBytes < 0 || o.metaBytes > memberlist.MetaMaxSize ||
		(o.profile != "lan" && o.profile != "local") {
		die("bad flags (members 3..5000, kills at most members-2, meta at most %d bytes, "+
			"profile lan or local)", memberlist.MetaMaxSize)
	}
	return o
}

// run is one run: the phases in order, each a method; the figures they measure are its fields.
type run struct {
	o       options
	logOut  io.Writer
	sink    *suspectSink
	rec     *recorder
	members []*member
	// From the profile's config.
	probeInterval                   time.Duration
	suspicionMult, suspicionMaxMult int

	joinMs, convergeMs     int64
	u0, p0, t0, u1, p1, t1 uint64
	steadyWall             float64
	steadySuspicions       uint64
	steadyFalseDead        int
	firsts, alls           []float64
	undetected             int
	killSuspicions0        uint64
}

func (r *run) startMembers() {
	r.members = make([]*member, r.o.n)
	for i := range r.members {
		conf := memberlist.DefaultLANConfig()
		if r.o.profile == "local" {
			conf = memberlist.DefaultLocalConfig()
		}
		t, port, err := newCountingTransport(r.o.bind)
		if err != nil {
			die("transport: %v", err)
		}
		conf.EnableCompression = r.o.compression
		conf.Name = memberName(i)
		conf.Transport = t
		conf.BindAddr, conf.BindPort = r.o.bind, port
		conf.AdvertiseAddr, conf.AdvertisePort = r.o.bind, port
		conf.Events = &eventDelegate{index: i, rec: r.rec}
		conf.Delegate = &metaDelegate{meta: memberMeta(i, r.o.metaBytes)}
		conf.Logger = log.New(r.logOut, conf.Name+" ", log.Lmicroseconds)
		r.probeInterval, r.suspicionMult, r.suspicionMaxMult =
			conf.ProbeInterval, conf.SuspicionMult, conf.SuspicionMaxTimeoutMult
		ml, err := memberlist.Create(conf)
		if err != nil {
			die("create %s: %v", conf.Name, err)
		}
		r.members[i] = &member{name: conf.Name, addr: fmt.Sprintf("%s:%d", r.o.bind, port), ml: ml,
			transport: t, running: true}
	}
}

// joinAndConverge: everyone joins member 0, then every member must count all alive.
func (r *run) joinAndConverge() {
	start := time.Now()
	for i := 1; i < r.o.n; i++ {
		if _, err := r.members[i].ml.Join([]string{r.members[0].addr}); err != nil {
			die("%s: join: %v", r.members[i].name, err)
		}
	}
	r.joinMs = time.Since(start).Milliseconds()
	bound := time.Duration(r.o.n)*r.probeInterval + 60*time.Second
	for !r.allSeeAllAlive() {
		// Not fatal: what follows then measures a pool that never settled, and says so
		// (converge_ms=-1); a run on a starved machine still shows what it did.
		if time.Since(start) > bound {
			r.convergeMs = -1
			progress("WARNING: not every member sees %d alive after %v (%s); going on",
				r.o.n, bound, r.aliveCounts())
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.convergeMs = time.Since(start).Milliseconds()
	progress("%d members joined in %d ms, all alive everywhere after %d ms", r.o.n, r.joinMs,
		r.convergeMs)
}

func (r *run) allSeeAllAlive() bool {
	for _, m := range r.members {
		if m.ml.NumMembers() != r.o.n {
			return false
		}
	}
	return true
}

// aliveCounts says how many members count how many alive, for a run that does not converge.
func (r *run) aliveCounts() string {
	counts := map[int]int{}
	for _, m := range r.members {
		counts[m.ml.NumMembers()]++
	}
	var parts []string
	for alive, members := range counts {
		parts = append(parts, fmt.Sprintf("%d see %d", members, alive))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// totals sums the running members' byte counters.
func (r *run) totals() (udp, packets, tcp uint64) {
	for _, m := range r.members {
		if m.running {
			udp += atomic.LoadUint64(&m.transport.c.udpBytes)
			packets += atomic.LoadUint64(&m.transport.c.udpPackets)
			tcp += atomic.LoadUint64(&m.transport.c.tcpBytes)
		}
	}
	return
}

func (r *run) steadyState() {
	time.Sleep(time.Duration(r.o.warmupS) * time.Second)
	r.u0, r.p0, r.t0 = r.totals()
	s0, f0 := atomic.LoadUint64(&r.sink.suspicions), r.rec.falseDeadNow()
	start := time.Now()
	time.Sleep(time.Duration(r.o.steadyS) * time.Second)
	r.steadyWall = time.Since(start).Seconds()
	r.u1, r.p1, r.t1 = r.totals()
	r.steadySuspicions = atomic.LoadUint64(&r.sink.suspicions) - s0
	r.steadyFalseDead = r.rec.falseDeadNow() - f0
	progress("steady state %.0f s: %d suspicions, %d false dead", r.steadyWall,
		r.steadySuspicions, r.steadyFalseDead)
	r.killSuspicions0 = atomic.LoadUint64(&r.sink.suspicions)
}

// kill k (0-based) shuts the k-th member from the end down and waits until every running
// member declared it dead, or the bound passed.
func (r *run) kill(k int) {
	victim := r.members[r.o.n-1-k]
	live := 0
	for _, m := range r.members {
		if m.running && m != victim {
			live++
		}
	}
	// The longest a detection may take: one probe of the victim within a round of the live
	// members, then the maximum suspicion timeout; plus 30 s of slack. It only bounds a failed
	// run.
	nodeScale := math.Max(1, math.Log10(float64(live+1)))
	suspicionMax := time.Duration(float64(r.suspicionMult*r.suspicionMaxMult)*nodeScale*1000) *
		r.probeInterval / 1000
	bound := time.Duration(live)*r.probeInterval + suspicionMax + 30*time.Second

	r.rec.mu.Lock()
	r.rec.stopped[victim.name] = true
	r.rec.mu.Unlock()
	victim.ml.Shutdown()
	victim.running = false
	killed := time.Now()
	var first, last time.Time
	seen := map[int]bool{}
	for time.Since(killed) < bound && len(seen) < live {
		time.Sleep(10 * time.Millisecond)
		r.rec.mu.Lock()
		for _, e := range r.rec.dead {
			if e.name != victim.name || e.at.Before(killed) || seen[e.observer] {
				continue
			}
			seen[e.observer] = true
			if first.IsZero() || e.at.Before(first) {
				first = e.at
			}
			if e.at.After(last) {
				last = e.at
			}
		}
		r.rec.mu.Unlock()
	}
	firstMs, allMs := -1.0, -1.0
	if !first.IsZero() {
		firstMs = float64(first.Sub(killed).Microseconds()) / 1000
		r.firsts = append(r.firsts, firstMs)
	}
	if len(seen) == live {
		allMs = float64(last.Sub(killed).Microseconds()) / 1000
		r.alls = append(r.alls, allMs)
	} else {
		r.undetected++
	}
	fmt.Printf("kill index=%d member=%s live=%d first_dead_ms=%.1f all_dead_ms=%.1f declared=%d\n",
		k+1, victim.name, live, firstMs, allMs, len(seen))
	progress("kill %d (%s): first dead after %.0f ms, everywhere after %.0f ms (%d/%d)",
		k+1, victim.name, firstMs, allMs, len(seen), live)
	time.Sleep(time.Duration(r.o.settleS) * time.Second)
}

// report prints the key=value lines, pool_bench's keys in pool_bench's order.
func (r *run) report() {
	sort.Float64s(r.firsts)
	sort.Float64s(r.alls)
	nodeScale := math.Max(1, math.Log10(float64(r.o.n)))
	suspicionMin := float64(r.suspicionMult) * nodeScale * r.probeInterval.Seconds() * 1000
	perMemberS := float64(r.o.n) * r.steadyWall
	fmt.Printf("impl=memberlist profile=%s members=%d steady_s=%d kills=%d meta_bytes=%d meta_digest=%016x compression=%t go=%s\n",
		r.o.profile, r.o.n, r.o.steadyS, r.o.kills, r.o.metaBytes, metaDigest(r.o.n, r.o.metaBytes),
		r.o.compression, strings.TrimPrefix(runtime.Version(), "go"))
	fmt.Printf("join_ms=%d converge_ms=%d\n", r.joinMs, r.convergeMs)
	fmt.Printf("steady_wall_s=%.1f steady_suspicions=%d steady_false_dead=%d\n",
		r.steadyWall, r.steadySuspicions, r.steadyFalseDead)
	fmt.Printf("udp_bytes_per_member_s=%.1f udp_packets_per_member_s=%.2f tcp_bytes_per_member_s=%.1f\n",
		float64(r.u1-r.u0)/perMemberS, float64(r.p1-r.p0)/perMemberS, float64(r.t1-r.t0)/perMemberS)
	fmt.Printf("detect_first_p50_ms=%.1f detect_first_p99_ms=%.1f detect_all_p50_ms=%.1f detect_all_p99_ms=%.1f undetected=%d\n",
		nearestRank(r.firsts, 50), nearestRank(r.firsts, 99), nearestRank(r.alls, 50),
		nearestRank(r.alls, 99), r.undetected)
	fmt.Printf("kill_phase_suspicions=%d false_dead_total=%d\n",
		atomic.LoadUint64(&r.sink.suspicions)-r.killSuspicions0, r.rec.falseDeadNow())
	fmt.Printf("suspicion_min_ms=%.0f suspicion_max_ms=%.0f\n", suspicionMin,
		suspicionMin*float64(r.suspicionMaxMult))
}

func (r *run) shutdownAll() {
	for _, m := range r.members {
		if m.running {
			m.ml.Shutdown()
			m.running = false
		}
	}
}

func main() {
	r := &run{o: parseFlags(), logOut: io.Discard, sink: &suspectSink{},
		rec: &recorder{stopped: map[string]bool{}}}
	if r.o.logPath != "" {
		f, err := os.Create(r.o.logPath)
		if err != nil {
			die("%v", err)
		}
		defer f.Close()
		r.logOut = f
	}
	mc := metrics.DefaultConfig("")
	mc.EnableHostname = false
	mc.EnableRuntimeMetrics = false
	if _, err := metrics.NewGlobal(mc, r.sink); err != nil {
		die("metrics: %v", err)
	}
	r.startMembers()
	defer r.shutdownAll()
	r.joinAndConverge()
	r.steadyState()
	for k := 0; k < r.o.kills; k++ {
		r.kill(k)
	}
	r.report()
}
