//! The gpt-oss transformer on the CPU kernels of [`mxfp4`]: configuration,
//! checkpoint loading, layers, KV cache, sampling, tokenizer and harmony.
//! Its modules land with the model issue; the crate exists now so that the
//! workspace has its final shape.
