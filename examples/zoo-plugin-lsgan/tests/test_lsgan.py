"""The plugin's own tests: the zoo's conformance kit, and the loss against its formula."""

import torch

from zoo import testing


def test_registration_and_builders():
    checked = testing.check_plugin("lsgan", weights=False)
    assert checked["architectures"] == ["lsgan"]


def test_the_loss_is_registered_and_is_least_squares():
    from zoo.training.losses import get_loss

    loss = get_loss("lsgan")  # an alias
    assert loss.name == "least-squares" and loss.plugin == "lsgan"
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 2.0])
    # 1/2 mean((1-1)^2, (3-1)^2) + 1/2 mean(0^2, 2^2) = 1 + 1
    assert loss.d(real, fake).item() == 2.0
    assert loss.g(torch.tensor([1.0, -1.0])).item() == 1.0  # 1/2 mean(0, 4)


def test_recipes_for_its_own_and_another_architecture():
    import zoo
    from zoo.training.recipes import architecture_recipe

    lsgan = zoo.model_info("lsgan").architecture
    assert lsgan.default_recipe == "paper" and architecture_recipe(lsgan).loss == "least-squares"
    assert zoo.model_info("dcgan").architecture.recipes["least-squares"]["loss"] == "least-squares"


def test_the_discriminator_scores_images():
    import zoo
    from zoo.loading import import_component

    arch = zoo.model_info("lsgan").architecture
    D = import_component(arch, "discriminator")(**arch.validate_config(ndf=4))
    assert D(torch.zeros(2, 1, 32, 32)).shape == (2,)
