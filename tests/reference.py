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
