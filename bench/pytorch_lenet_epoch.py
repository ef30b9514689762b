#!/usr/bin/python3
# One training epoch of the experiment's LeNet-5 in PyTorch (Python), one
# thread: float, APoT QAT (RCF composed from torch ops, nearest level by an
# argmin, b = 4 and 2) and LSQ QAT (b = 4, gradient scale by the detach trick).
# A timing peer for bench_lenet_epoch's table in docs/experiment.md, not an
# accuracy reference: QAT starts from untrained weights.
#
#   /usr/bin/python3 bench/pytorch_lenet_epoch.py [rounds]    (Debian python3-torch)
import gzip, sys, time, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(1)
try:
    import ctypes; ctypes.CDLL("libopenblas.so.0").openblas_set_num_threads(1)
except Exception as e: print("openblas threads:", e)
D = "/usr/share/datasets/fashion-mnist/"
def idx(p, off):
    with gzip.open(D + p) as f: return torch.frombuffer(bytearray(f.read()[off:]), dtype=torch.uint8)
x = idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28).float()
x = (x / 255 - 0.28604) / 0.35302
y = idx("train-labels-idx1-ubyte.gz", 8).long()

def apot_levels_w(b):
    return {4: [0, .1, .2, .3, .4, .6, .8, 1.], 3: [0, .25, .5, 1.], 2: [0, 1.]}[b]
def apot_levels_a(b):
    if b == 4:  # k=2 unsigned APoT, 16 levels (PyTorch's construction)
        s = sorted({a + c for a in [0, 2**-1, 2**-3, 2**-5] for c in [0, 2**-2, 2**-4, 2**-6]})
        m = max(s); return [v / m for v in s]
    return {3: [0, .1, .2, .3, .4, .6, .8, 1.], 2: [0, .25, .5, 1.]}[b]

class RCF(nn.Module):
    def __init__(s, levels, signed, alpha):
        super().__init__(); s.signed = signed
        lv = torch.tensor(levels); s.register_buffer("levels", torch.cat([-lv.flip(0)[:-1], lv]) if signed else lv)
        s.alpha = nn.Parameter(torch.tensor(float(alpha)))
    def forward(s, t):
        data = (t / s.alpha).clamp(-1 if s.signed else 0, 1)
        idxs = (data.detach().reshape(1, -1) - s.levels.unsqueeze(1)).abs().min(dim=0)[1]
        q = s.levels[idxs].view_as(data)
        return ((q - data).detach() + data) * s.alpha

def grad_scale(t, g): return (t - t * g).detach() + t * g
def round_ste(t): return (t.round() - t).detach() + t
class LSQ(nn.Module):
    def __init__(s, init, qmin, qmax):
        super().__init__(); s.qmin, s.qmax = qmin, qmax
        s.step = nn.Parameter(torch.tensor(2 * init.abs().mean().item() / qmax ** 0.5))
    def forward(s, t):
        g = 1.0 / (t.numel() * s.qmax) ** 0.5
        st = grad_scale(s.step, g)
        return round_ste((t / st).clamp(s.qmin, s.qmax)) * st

def int8_w(w):
    st = w.detach().abs().max() / 127
    return torch.fake_quantize_per_tensor_affine(w, st.item(), 0, -127, 127)

class LeNet(nn.Module):
    def __init__(s):
        super().__init__()
        s.c1 = nn.Conv2d(1, 6, 5, padding=2); s.c2 = nn.Conv2d(6, 16, 5)
        s.f1 = nn.Linear(400, 120); s.f2 = nn.Linear(120, 84); s.f3 = nn.Linear(84, 10)
        s.q = None
    def forward(s, x, record=None):
        q = s.q
        W = lambda i, l: l.weight if q is None else q.w(i, l.weight)
        A = lambda i, h: h if q is None else q.a(i, h)
        h = F.max_pool2d(F.relu(F.conv2d(x, W(0, s.c1), s.c1.bias, padding=2)), 2)
        if record is not None: record.append(h)
        h = F.max_pool2d(F.relu(F.conv2d(A(1, h), W(1, s.c2), s.c2.bias)), 2).flatten(1)
        if record is not None: record.append(h)
        h = F.relu(F.linear(A(2, h), W(2, s.f1), s.f1.bias))
        if record is not None: record.append(h)
        h = F.relu(F.linear(A(3, h), W(3, s.f2), s.f2.bias))
        if record is not None: record.append(h)
        return F.linear(A(4, h), W(4, s.f3), s.f3.bias)

class Q(nn.Module):
    def __init__(s, net, method, b, calib):
        super().__init__(); s.method = method
        rec = []
        with torch.no_grad(): net(calib, rec)
        s.a4 = rec[3].max().item() / 255
        ws = [net.c2.weight, net.f1.weight, net.f2.weight]
        if method == "apot":
            s.wq = nn.ModuleList([RCF(apot_levels_w(b), True, 3.0) for _ in ws])
            s.aq = nn.ModuleList([RCF(apot_levels_a(b), False, rec[i].max().item()) for i in range(3)])
        else:
            top = 2 ** (b - 1) - 1
            s.wq = nn.ModuleList([LSQ(w.detach(), -top, top) for w in ws])
            s.aq = nn.ModuleList([LSQ(rec[i], 0, 2 ** b - 1) for i in range(3)])
    def w(s, i, w):
        if i in (0, 4): return int8_w(w)
        if s.method == "apot":
            std = w.std()
            return s.wq[i - 1]((w - w.mean()) / (std + 1e-5)) * std.detach()
        return s.wq[i - 1](w)
    def a(s, i, h):
        if i == 4: return torch.fake_quantize_per_tensor_affine(h, s.a4, 0, 0, 255)
        return s.aq[i - 1](h)

def run(method, b):
    torch.manual_seed(0)
    net = LeNet()
    if method != "float":
        net.q = Q(net, method, b, x[:1024])
    opt = torch.optim.Adam(net.parameters(), lr=1e-3 if method == "float" else 1e-4)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=64, shuffle=True)
    t0 = time.time(); c0 = time.process_time(); tot = 0
    for xb, yb in loader:
        opt.zero_grad(); loss = F.cross_entropy(net(xb), yb); loss.backward(); opt.step()
        if method == "apot":
            with torch.no_grad():
                for m in net.modules():
                    if isinstance(m, RCF): m.alpha.clamp_(min=1e-3)
        tot += loss.item()
    return time.time() - t0, time.process_time() - c0, tot / len(loader)

cases = [("float", 32), ("apot", 4), ("apot", 2), ("lsq", 4)]
for r in range(int(sys.argv[1]) if len(sys.argv) > 1 else 1):
    for m, b in cases:
        w, c, l = run(m, b)
        print(f"round {r} {m} b{b}: wall {w:.2f} s cpu {c:.2f} s loss {l:.4f}", flush=True)
