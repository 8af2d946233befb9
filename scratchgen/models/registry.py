"""The models `scratchgen train` knows, by CLI name. Each entry names its module and class,
imported only when asked for, so every family's file stays independent of the others."""
import importlib

MODELS = {
    "vae": "scratchgen.models.vae:VAE",
    "conv-vae": "scratchgen.models.vae_conv:ConvVAE",
    "gan": "scratchgen.models.gan:GAN",
    "dcgan": "scratchgen.models.dcgan:DCGAN",
    "dcgan-upsample": "scratchgen.models.dcgan:DCGANUpsample",
    "cgan": "scratchgen.models.cgan:CGAN",
    "cdcgan": "scratchgen.models.cgan:CDCGAN",
    "wgan": "scratchgen.models.wgan:WGAN",
    "wgan-gp": "scratchgen.models.wgan:WGANGP",
    "wgan-gp-lm": "scratchgen.models.wgan_gp_lm:WGANGPLanguageModel",
    "unrolled-gan": "scratchgen.models.unrolled_gan:UnrolledGAN",
    "infogan": "scratchgen.models.infogan:InfoGAN",
    "improved-gan": "scratchgen.models.improved_gan:ImprovedGAN",
    "made": "scratchgen.models.made:MADE",
    "pixelcnn": "scratchgen.models.pixelcnn:PixelCNN",
    "row-lstm": "scratchgen.models.pixelrnn:RowLSTM",
    "diagonal-bilstm": "scratchgen.models.pixelrnn:DiagonalBiLSTM",
    "cat-vae": "scratchgen.models.categorical_vae:CategoricalVAE",
    "bern-vae": "scratchgen.models.categorical_vae:BernoulliVAE",
    "sbn": "scratchgen.models.sbn:SBN",
    "cat-sbn": "scratchgen.models.sbn:CategoricalSBN",
    "iaf-vae": "scratchgen.models.iaf_vae:IAFVAE",
    "iaf-resnet-vae": "scratchgen.models.iaf_resnet_vae:IAFResNetVAE",
    "trpo": "scratchgen.models.trpo:TRPO",
    "gail": "scratchgen.models.gail:GAIL",
    "bc": "scratchgen.models.behavioural_cloning:BehaviouralCloning",
    "vime": "scratchgen.models.vime:VIME",
    "ddgm": "scratchgen.models.ddgm:DDGM",
    "m2": "scratchgen.models.semi_supervised_vae:SemiSupervisedVAE",
}


def model_class(name):
    """The class registered as `name` (e.g. "wgan-gp")."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(MODELS)} (scratchgen list)")
    module_name, class_name = MODELS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def list_models():
    """[(name, paper, datasets)] for every registered model, in registration order."""
    return [(name, model_class(name).paper, model_class(name).datasets) for name in MODELS]
