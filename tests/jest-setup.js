// @jupyterlab/services logs every kernel status change and socket start with console.debug; with hundreds of
// kernels in a run that drowned the CI log (and the failure it was meant to show). Tests never assert on it.
console.debug = () => undefined;
