"""scikit-learn estimators: :class:`MLPClassifier` and :class:`MLPRegressor`.

    from backprop.sklearn import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=(64,), solver="adam", max_iter=50, random_state=0)
    clf.fit(X, y).score(X_test, y_test)

They take scikit-learn's parameter names, defaults and meanings (those of
``sklearn.neural_network.MLPClassifier`` / ``MLPRegressor``) plus this
library's own (``init``, ``dropout``, ``batch_norm``, ``dtype``,
``clip_norm``, ``compiled_step``, ``compiled``, ``early_stopping_metric``,
``restore_best_weights``, ``callbacks``), and train a :class:`backprop.Network`
(``network_``) with its one training step, :meth:`backprop.Network.backprop`.
A loss that explodes is said by a :class:`LossExplosionWarning`. scikit-learn and
SciPy are an optional extra: ``pip install 'backprop-mlp[sklearn]'``.

``estimator.to_onnx(path)`` writes an ONNX graph with predict's labels and
predict_proba's probabilities (:mod:`backprop.sklearn.onnx_graph`);
:func:`register_skl2onnx` lets skl2onnx convert a whole Pipeline holding the
estimators (:mod:`backprop.sklearn.onnx_converter`).
"""

from backprop.version import install_hint

try:
    import scipy.optimize  # noqa: F401
    import sklearn.base  # noqa: F401
except ImportError:
    raise ImportError(
        f"backprop.sklearn needs scikit-learn and SciPy: {install_hint('sklearn')}"
    ) from None

from backprop.sklearn.classifier import MLPClassifier
from backprop.sklearn.monitoring import LossExplosionWarning
from backprop.sklearn.onnx_converter import register_skl2onnx
from backprop.sklearn.regressor import MLPRegressor

__all__ = ["LossExplosionWarning", "MLPClassifier", "MLPRegressor", "register_skl2onnx"]
