"""The example plugin's own tests: the zoo's conformance kit, plus what is particular to PPCA."""

from pathlib import Path


from zoo import testing

HUB = Path(__file__).resolve().parent.parent / "hub"
FOLDER = HUB / "zoo-examples" / "ppca-fashion-mnist"


def test_registration_and_builder():
    assert testing.check_plugin("ppca", weights=False) == {"architectures": ["ppca"], "weights": []}


def test_the_published_folder_is_valid():
    report = testing.check_repo_folder(FOLDER)
    assert report.architecture == "ppca" and report.config["latent_dim"] == 32


def test_weights_card_and_round_trip_from_the_folder_mirror():
    with testing.use_mirror(HUB):
        assert testing.check_plugin("ppca")["weights"] == ["ppca.fashion-mnist"]


def test_the_fitted_model_is_a_valid_ppca():
    import torch

    import zoo

    with testing.use_mirror(HUB):
        model = zoo.load("ppca.fashion-mnist")
    w = model.weight.detach().double()
    # columns of W are orthogonal (W = U (L - s2)^1/2), ordered by decreasing norm
    gram = w.t() @ w
    off = gram - torch.diag(torch.diagonal(gram))
    assert off.abs().max() < 1e-4 * gram.diagonal().max()
    norms = gram.diagonal()
    assert torch.all(norms[:-1] >= norms[1:])
    assert 0 < float(model.noise_var) < float(norms[-1])  # the noise is below every kept component
    # the mean image is a Fashion-MNIST-like average: in [0, 1], brighter in the centre than the corners
    mean = model.mean.detach().view(28, 28)
    assert 0 <= float(mean.min()) and float(mean.max()) <= 1
    assert mean[10:18, 10:18].mean() > 4 * mean[:4, :4].mean()
    # the model's density prefers its own mean image to noise
    noise = torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ll = model.log_likelihood(torch.stack([mean.unsqueeze(0), noise[0]]))
    assert ll[0] > ll[1]


def test_log_likelihood_matches_a_dense_gaussian():
    import math

    import torch

    from zoo_ppca.model import build

    torch.manual_seed(0)
    m = build(latent_dim=3, image_size=3).double()
    with torch.no_grad():
        m.weight.normal_()
        m.mean.uniform_()
        m.noise_var.fill_(0.3)
    x = torch.rand(5, 1, 3, 3, dtype=torch.float64)
    cov = m.weight @ m.weight.t() + 0.3 * torch.eye(9, dtype=torch.float64)
    ref = torch.distributions.MultivariateNormal(m.mean, covariance_matrix=cov).log_prob(x.flatten(1))
    assert torch.allclose(m.log_likelihood(x), ref, atol=1e-9)
    assert math.isfinite(float(ref.sum().detach()))


