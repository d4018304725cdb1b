"""Chapter 2's generalising claims, re-run on settings the chapter does not show.

Chapter: ``chapters/02_memoryless_data.ipynb``. Claims checked:

1. ``prop-all-outputs`` and ``cor-same-zeros``: the all-outputs loss weighs tap ``j`` by
   ``1 - j/k``, and both losses vanish exactly on the interpolators: fresh random students
   (seeds 100-149; the chapter: one two-mode student), ``k = 15`` (the chapter: 5);
2. ``prop-finite-data``: ``N >= k`` Gaussian sequences make the window matrix positive definite
   and ``N < k`` never do, so that fewer sequences leave a blind student with training loss 0
   and population loss 1: ``k = 3..15`` (the chapter: 5), fresh seeds 100+;
3. "the training set constrains the head, [...] the tail is out of its reach": interpolators
   with geometric tails (random amplitudes, four fixed rates 0.9, -0.97, 1.005 and 0.5) have
   training loss exactly 0 on fresh samples of 5 and 50,000 sequences
   (fresh seeds; the chapter: 5 to 50,000 sequences), and their sampled test loss equals
   ``E_{k,T}`` at ``T = 45`` (the chapter: ``T = 15``), with ``E_{k,T}`` and ``E^sup``
   bounding each other out to ``T = 500`` (the chapter: 40).

float64 throughout; no training.
"""

import itertools
import math

import torch

import rnnbias as rb
from rnnbias import constructions

F64 = torch.float64
TEACHER = rb.memoryless()


def test_all_outputs_weights_and_the_same_zeros_for_fresh_students():
    """'The all-outputs loss is sum_j (1 - j/k)(g_j - g*_j)^2 [...]. L_k = 0 if and only if
    bar L_k = 0, if and only if g_0 = 1 and g_1 = ... = g_{k-1} = 0.'"""
    rb.set_seed(0)
    k = 15
    students = rb.init_gaussian(6, 0.9, seed=list(range(100, 150)))
    delta = rb.impulse_response(students, k) - TEACHER.impulse_response(k)
    weights = 1 - torch.arange(k, dtype=F64) / k
    L_all = rb.population_loss(students, TEACHER, k, outputs="all")
    assert torch.allclose(L_all, (weights * delta**2).sum(1), rtol=1e-13, atol=0)
    # the same value from the recursion, on the k unit impulses
    by_impulses = k * rb.empirical_loss(students, TEACHER, torch.eye(k, dtype=F64), outputs="all")
    assert torch.allclose(by_impulses, L_all, rtol=1e-12, atol=0)
    # negative control: unit weights give a different loss on every student
    assert bool(((delta**2).sum(1) > L_all * (1 + 1e-6)).all())
    # the same zeros: interpolators (random tails) give 0 under both losses ...
    tails = torch.randn(20, 30, generator=torch.Generator().manual_seed(100), dtype=F64)
    interp = constructions.with_tail(k, tails)
    for outputs in ("final", "all"):
        assert torch.equal(
            rb.population_loss(interp, TEACHER, k, outputs=outputs), torch.zeros(20, dtype=F64)
        )
    # ... and a change of any single head tap makes both positive
    for j in range(k):
        head = TEACHER.impulse_response(k).clone()
        head[j] += 1e-3
        bad = constructions.shift_register(head)
        assert float(rb.population_loss(bad, TEACHER, k)[0]) > 0
        assert float(rb.population_loss(bad, TEACHER, k, outputs="all")[0]) > 0


def test_k_generic_sequences_pin_the_head_and_fewer_leave_a_blind_student():
    """'With Gaussian inputs, Sigma_hat is positive definite with probability 1 when N >= k, and
    never when N < k'; below that, a head error in the null space fits the training set
    exactly and is wrong on the population."""
    rb.set_seed(0)
    for k in range(3, 16):
        for seed in (100, 101, 102):
            X = rb.sample_sequences(k, k, seed=seed + 10 * k).flip(-1)  # N = k windows
            eig = torch.linalg.eigvalsh(X.T @ X / k)
            assert float(eig[0]) > 1e-10 * float(eig[-1])
            X_few = X[: k - 1]  # N = k - 1
            eig_few = torch.linalg.eigvalsh(X_few.T @ X_few / (k - 1))
            assert abs(float(eig_few[0])) < 1e-12 * float(eig_few[-1])
            v = torch.linalg.svd(X_few).Vh[-1]
            blind = constructions.shift_register(TEACHER.impulse_response(k) + v)
            x_few = X_few.flip(-1)
            assert float(rb.empirical_loss(blind, TEACHER, x_few)[0]) < 1e-25
            assert abs(float(rb.population_loss(blind, TEACHER, k)[0]) - 1) < 1e-12
            # N = k: the same student is caught by the larger training set
            assert float(rb.empirical_loss(blind, TEACHER, X.flip(-1))[0]) > 1e-12
    # negative control: with random-sign inputs (no density), N = k = 2 is singular in half
    # of the 16 training sets, so the 'N >= k' statement needs the density
    singular = sum(
        abs(a * d - b * c) < 1e-12 for a, b, c, d in itertools.product([-1.0, 1.0], repeat=4)
    )
    assert singular == 8


def test_the_tail_is_out_of_reach_of_any_training_set():
    """'The training loss is exactly zero for every N, and the test loss at length 3k stays at
    the population value [...]. Ten thousand times more data change nothing.'"""
    rb.set_seed(0)
    k, T, n_test = 5, 45, 10_000
    i = torch.arange(500 - k, dtype=F64)
    gen = torch.Generator().manual_seed(100)
    amp = torch.rand(4, 1, generator=gen, dtype=F64)
    rate = torch.tensor([[0.9], [-0.97], [1.005], [0.5]], dtype=F64)
    tails = amp * rate**i
    # the first 40 tail taps (d = 45) decide every output up to length 45; all 495 for T = 500
    students = constructions.with_tail(k, tails[:, :40])
    long_students = constructions.with_tail(k, tails)  # d = 500
    # training sets of 5 and 50,000 fresh sequences (a short tail keeps the forward pass cheap;
    # a length-k output never reaches past lag k - 1 anyway)
    for N in (5, 50_000):
        x = rb.sample_sequences(N, k, seed=7000 + N)
        short = constructions.with_tail(k, tails[:, :5])
        assert torch.equal(rb.empirical_loss(short, TEACHER, x), torch.zeros(4, dtype=F64))
    assert torch.equal(rb.empirical_loss(students, TEACHER, x[:1000]), torch.zeros(4, dtype=F64))
    # negative control: a student with a wrong head is seen by the same data
    wrong = constructions.shift_register(torch.tensor([1.0, 0.0, 0.1, 0.0, 0.0], dtype=F64))
    assert float(rb.empirical_loss(wrong, TEACHER, rb.sample_sequences(5, k, seed=105))[0]) > 1e-4
    # sampled test loss at T = 45 equals the exact E_{k,T}
    x_test = rb.sample_sequences(n_test, T, seed=200)
    sq = (rb.forward(students.select([0, 1, 3]), x_test)[..., -1] - x_test[:, -1]) ** 2
    E = rb.extrapolation_error(students.select([0, 1, 3]), TEACHER, k, T)
    z = (sq.mean(1) - E) / (sq.std(1) / math.sqrt(n_test))
    assert float(z.abs().max()) < 4, z
    # the two measures bound each other out to T = 500, and none of the four extrapolates
    E_500 = rb.extrapolation_error(long_students, TEACHER, k, 500)
    sup = rb.sup_error(long_students, TEACHER, 500, k=k)
    assert bool((sup**2 <= E_500 * (1 + 1e-12)).all() and (E_500 <= (500 - k) * sup**2).all())
    assert bool((E_500 > 1e-3 * amp[:, 0] ** 2).all())
