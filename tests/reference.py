"""A pure-NumPy reference of one CBOW / negative-sampling step, written from the maths
(see the top of w2v/core/train.pyx), in float64. The Cython kernels are tested against it.

Adam uses the exact gradients. SGD, as word2vec.c and fastText, gives every context
row the whole error dL/dh (not dL/dh divided by the number of context words, which
the exact gradient of the mean would give)."""
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def window_loss_and_grads(W_in, W_out, context, outputs, cbow_mean=True):
    """Loss of one window and its gradients: (loss, {in_row: grad}, {out_row: grad})."""
    context = list(context)
    h = W_in[context].sum(axis=0)
    if cbow_mean:
        h = h / len(context)
    grad_h = np.zeros_like(h)
    grad_out = {}
    loss = 0.0
    for t, o in enumerate(outputs):
        label = 1.0 if t == 0 else 0.0
        p = sigmoid(h @ W_out[o])
        loss -= np.log(p) if label else np.log(1 - p)
        g = p - label
        grad_h += g * W_out[o]
        grad_out[o] = grad_out.get(o, 0) + g * h
    grad_in = {}
    for c in context:
        grad_in[c] = grad_in.get(c, 0) + grad_h / (len(context) if cbow_mean else 1)
    return loss, grad_in, grad_out


def renorm(W, rows, max_norm, norm_type=2.0):
    """torch's embedding_renorm_: each looked-up row longer than max_norm is scaled,
    in place, by max_norm / (norm + 1e-7)."""
    for r in sorted(set(rows)):
        norm = np.linalg.norm(W[r], ord=norm_type)
        if norm > max_norm:
            W[r] *= max_norm / (norm + 1e-7)


def sgd_window(W_in, W_out, context, outputs, lr, cbow_mean=True, fixed_rows=(),
               max_norm=None, norm_type=2.0):
    """In place on float64 arrays. As word2vec, each output row is updated as soon as
    its gradient is known; dL/dh uses the rows before their update. Rows of W_in in
    `fixed_rows` (frozen, padding) are not updated; max_norm renormalises on lookup."""
    context = list(context)
    if max_norm is not None:
        renorm(W_in, context, max_norm, norm_type)
    h = W_in[context].sum(axis=0)
    if cbow_mean:
        h = h / len(context)
    grad_h = np.zeros_like(h)
    loss = 0.0
    for t, o in enumerate(outputs):
        label = 1.0 if t == 0 else 0.0
        p = sigmoid(h @ W_out[o])
        loss -= np.log(p) if label else np.log(1 - p)
        g = p - label
        grad_h += g * W_out[o]
        W_out[o] -= lr * g * h
    for c in context:
        if c not in fixed_rows:
            W_in[c] -= lr * grad_h
    return loss


def adam_step(params, moments, windows, lr, step, beta1=0.9, beta2=0.999, eps=1e-8,
              cbow_mean=True, fixed_rows=()):
    """One lazy Adam step (as torch.optim.SparseAdam) on the mean loss of `windows`.

    params = [W_in, W_out]; moments = [(m_in, v_in), (m_out, v_out)]; all float64,
    updated in place. Only rows looked up by some window are touched, and no row of
    W_in in `fixed_rows` (frozen, padding).
    """
    W_in, W_out = params
    grads = [{}, {}]
    loss = 0.0
    for context, outputs in windows:
        l, g_in, g_out = window_loss_and_grads(W_in, W_out, context, outputs, cbow_mean)
        loss += l
        g_in = {row: g for row, g in g_in.items() if row not in fixed_rows}
        for acc, g in zip(grads, (g_in, g_out)):
            for row, value in g.items():
                acc[row] = acc.get(row, 0) + value
    step_size = lr * np.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
    for param, (m, v), grad in zip(params, moments, grads):
        for row, g in grad.items():
            g = g / len(windows)
            m[row] = beta1 * m[row] + (1 - beta1) * g
            v[row] = beta2 * v[row] + (1 - beta2) * g * g
            param[row] -= step_size * m[row] / (np.sqrt(v[row]) + eps)
    return loss


def keep_probability(count, total, sample):
    """word2vec.c: ran = (sqrt(cn / (sample * train_words)) + 1) * (sample * train_words) / cn."""
    if sample == 0:
        return 1.0
    ran = (np.sqrt(count / (sample * total)) + 1) * (sample * total) / count
    return min(ran, 1.0)


# ------------------------------------------------------------ the general step (w2v/core)
def example_sgd(tables, groups, outputs, lr, mean_inputs=True, fixed_rows=()):
    """One SGD step of the core on float64 `tables` ({"in", "out", "hs"}), in place.

    groups: lists of W_in rows, each giving one hidden vector (mean, or sum); outputs:
    (table, row, label). Every hidden vector is scored against every output. An output
    row moves as soon as its gradient (summed over the groups) is known; the scores of an
    output use its row as it is when the output comes up. Every input row of a group then
    gets -lr times the group's whole dL/dh (word2vec's convention)."""
    W_in = tables["in"]
    hidden = [W_in[list(g)].sum(axis=0) / (len(g) if mean_inputs else 1) for g in groups]
    grad_h = [np.zeros_like(h) for h in hidden]
    loss = 0.0
    for table, row, label in outputs:
        out = tables[table][row]
        delta = np.zeros_like(out)
        for g, h in enumerate(hidden):
            p = sigmoid(h @ out)
            loss -= np.log(p) if label else np.log(1 - p)
            grad_h[g] += (p - label) * out
            delta += (p - label) * h
        tables[table][row] = out - lr * delta
    for g, rows in enumerate(groups):
        for r in rows:
            if r not in fixed_rows:
                W_in[r] -= lr * grad_h[g]
    return loss


def example_loss_and_grads(tables, groups, outputs, mean_inputs=True):
    """Loss of one example and its exact gradients, {table: {row: grad}}."""
    W_in = tables["in"]
    hidden = [W_in[list(g)].sum(axis=0) / (len(g) if mean_inputs else 1) for g in groups]
    grads = {name: {} for name in tables}
    loss = 0.0
    for g, (rows, h) in enumerate(zip(groups, hidden)):
        grad_h = np.zeros_like(h)
        for table, row, label in outputs:
            out = tables[table][row]
            p = sigmoid(h @ out)
            loss -= np.log(p) if label else np.log(1 - p)
            grad_h += (p - label) * out
            grads[table][row] = grads[table].get(row, 0) + (p - label) * h
        for r in rows:
            grads["in"][r] = grads["in"].get(r, 0) + grad_h / (len(rows) if mean_inputs else 1)
    return loss, grads


def example_adam(tables, moments, examples, lr, step, beta1=0.9, beta2=0.999, eps=1e-8,
                 mean_inputs=True):
    """One lazy Adam step on the mean loss of `examples` [(groups, outputs)], in place."""
    total = {name: {} for name in tables}
    loss = 0.0
    for groups, outputs in examples:
        l, grads = example_loss_and_grads(tables, groups, outputs, mean_inputs)
        loss += l
        for name, rows in grads.items():
            for row, g in rows.items():
                total[name][row] = total[name].get(row, 0) + g
    step_size = lr * np.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
    for name, rows in total.items():
        m, v = moments[name]
        for row, g in rows.items():
            g = g / len(examples)
            m[row] = beta1 * m[row] + (1 - beta1) * g
            v[row] = beta2 * v[row] + (1 - beta2) * g * g
            tables[name][row] -= step_size * m[row] / (np.sqrt(v[row]) + eps)
    return loss


def huffman_word2vec(counts):
    """word2vec C's CreateBinaryTree, written from its description: two queues (leaves
    from the rarest, inner nodes in creation order), a leaf taken only when strictly
    smaller; the second node taken is branch 1. Returns per word (codes, points), root
    first, inner nodes numbered by creation."""
    n = len(counts)
    weight = list(counts) + [None] * (n - 1)
    parent, bit = {}, {}
    leaves = list(range(n - 1, -1, -1))      # rarest first
    inner = []
    for a in range(n - 1):
        taken = []
        for _ in range(2):
            if leaves and (not inner or weight[leaves[0]] < weight[inner[0]]):
                taken.append(leaves.pop(0))
            else:
                taken.append(inner.pop(0))
        weight[n + a] = weight[taken[0]] + weight[taken[1]]
        inner.append(n + a)
        for b, node in enumerate(taken):
            parent[node], bit[node] = n + a, b
    paths = []
    for word in range(n):
        codes, points, node = [], [], word
        while node != 2 * n - 2:
            codes.append(bit[node])
            points.append(parent[node] - n)
            node = parent[node]
        paths.append((codes[::-1], points[::-1]))
    return paths


def hs_outputs(paths, word):
    """Hierarchical softmax's outputs of a target: its path's nodes, label 1 - code."""
    codes, points = paths[word]
    return [("hs", p, 1 - c) for c, p in zip(codes, points)]


def train_sentence_hs(W_in, W_hs, sentence, window, lr, paths, sg):
    """word2vec's loops over one sentence with hierarchical softmax only, full windows, no
    subsampling (nothing random), SGD at a constant rate; float64, in place."""
    tables = {"in": W_in, "hs": W_hs}
    loss = 0.0
    for i, centre in enumerate(sentence):
        context = [sentence[j] for j in range(max(0, i - window), min(len(sentence), i + window + 1))
                   if j != i]
        if not context:
            continue
        if sg:
            for word in context:
                loss += example_sgd(tables, [[word]], hs_outputs(paths, centre), lr)
        else:
            loss += example_sgd(tables, [context], hs_outputs(paths, centre), lr)
    return loss


# ------------------------------------------------------------ fastText's subword n-grams
def fasttext_hash(data: bytes) -> int:
    """fastText's Dictionary::hash, from its definition: 32-bit FNV-1a where each byte is
    read as a signed char and widened to 32 bits (so 0x80..0xFF become 0xFFFFFF80..)."""
    h = 2166136261
    for byte in data:
        signed = byte - 256 if byte >= 128 else byte
        h = ((h ^ (signed & 0xFFFFFFFF)) * 16777619) & 0xFFFFFFFF
    return h


def fasttext_ngrams(word: bytes, minn: int, maxn: int):
    """The n-grams (bytes) of b"<" + word + b">" in fastText's order, from its
    definition: every start at a character boundary, lengths 1..maxn characters
    (a character: a byte and the 10xxxxxx bytes after it), kept when >= minn and not a
    lone boundary marker. "</s>" has none."""
    if word == b"</s>":
        return []
    text = b"<" + word + b">"
    chars, i = [], 0
    while i < len(text):                     # split into characters, keeping byte spans
        j = i + 1
        while j < len(text) and text[j] & 0xC0 == 0x80:
            j += 1
        chars.append((i, j))
        i = j
    # a leading run of continuation bytes cannot occur: text starts with "<"
    out = []
    for c, (start, _) in enumerate(chars):
        for n in range(1, maxn + 1):
            if c + n > len(chars):
                break
            end = chars[c + n - 1][1]
            if n >= minn and not (n == 1 and (c == 0 or c + n == len(chars))):
                out.append(text[start:end])
    return out


def fasttext_input_rows(words, minn, maxn, bucket):
    """Each word's input rows as fastText's Dictionary::initNgrams gives them: its own
    id, then nwords + hash % bucket per n-gram (no n-grams when bucket is 0)."""
    table = []
    for i, word in enumerate(words):
        grams = fasttext_ngrams(word, minn, maxn) if bucket else []
        table.append([i] + [len(words) + fasttext_hash(g) % bucket for g in grams])
    return table


def train_sentence_subwords_hs(W_in, W_hs, sentence, window, lr, paths, sg, input_rows):
    """fastText's loops over one sentence with subwords (input_rows[word]: the word's row
    and its n-grams' rows), hierarchical softmax only, full windows, no subsampling, SGD
    at a constant rate; float64, in place. CBOW: the rows of every context word in one
    group. Skip-gram (fastText's orientation): the centre word's rows are the input, each
    context word in turn the target."""
    tables = {"in": W_in, "hs": W_hs}
    loss = 0.0
    for i, centre in enumerate(sentence):
        context = [sentence[j] for j in range(max(0, i - window), min(len(sentence), i + window + 1))
                   if j != i]
        if not context:
            continue
        if sg:
            for word in context:
                loss += example_sgd(tables, [input_rows[centre]], hs_outputs(paths, word), lr)
        else:
            rows = [r for word in context for r in input_rows[word]]
            loss += example_sgd(tables, [rows], hs_outputs(paths, centre), lr)
    return loss


def train_sentence_cbow_cached_hs(W_in, W_hs, sentence, window, lr, paths, input_rows):
    """CBOW with the context cache (w2v/core/context_cache.pxd) over one sentence,
    hierarchical softmax only, full windows, no subsampling, SGD at a constant rate;
    float64, in place. Position p's input rows (input_rows[word]) are summed when p comes
    within reach (before window p - window), and get what the windows collected for them,
    -lr dL/dhidden each, when it leaves reach (after window p + window)."""
    n = len(sentence)
    sums, collected = {}, {}

    def enter(p):
        sums[p] = W_in[input_rows[sentence[p]]].sum(axis=0)
        collected[p] = np.zeros(W_in.shape[1])

    def leave(p):
        for r in input_rows[sentence[p]]:            # a repeated row gets it each time
            W_in[r] += collected[p]
        del sums[p], collected[p]

    loss, entered = 0.0, 0
    for i, centre in enumerate(sentence):
        while entered < n and entered <= i + window:
            enter(entered)
            entered += 1
        context = [j for j in range(max(0, i - window), min(n, i + window + 1)) if j != i]
        if context:
            hidden = sum(sums[j] for j in context) / sum(len(input_rows[sentence[j]]) for j in context)
            grad_h = np.zeros_like(hidden)
            for _, row, label in hs_outputs(paths, centre):
                out = W_hs[row].copy()
                p = sigmoid(hidden @ out)
                loss -= np.log(p) if label else np.log(1 - p)
                grad_h += (p - label) * out
                W_hs[row] = out - lr * (p - label) * hidden
            for j in context:
                collected[j] -= lr * grad_h
        if i >= window:
            leave(i - window)
    for p in range(max(0, n - window), n):
        leave(p)
    return loss
