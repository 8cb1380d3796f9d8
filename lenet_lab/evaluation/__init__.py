"""What a trained model gets right and wrong: the per-job test evaluation (confusion matrix,
classification report, figures), penultimate features and t-SNE, and digit pictures of any kind
made MNIST-like for prediction."""
