# Reference values for psych's defaults the pipeline follows, and for R mclust's Gaussian mixtures.
#
# Run from the repository top:
#   Rscript tests/r/psych_defaults_reference.R
# Writes
#   tests/reference/psych_defaults_<dataset>.json for dataset = demo, ecr_5point (recoded exactly as
#     tests/r/factors_reference.R: missing codes -> NA, reverse-keyed items reversed), with every row
#     that answered at least one of the 36 items (there are no empty rows in either file):
#     pairwise  -- psych's defaults with raw data containing NA (use = "pairwise"):
#                  KMO(x); cortest.bartlett(x) (R from cor(x, use = "pairwise"), n = nrow(x));
#                  fa(x, 2, minres/ml + oblimin, minres + promax), fa(x, 1) (r = cor(x, use =
#                  "pairwise"), n.obs = nrow(x) for the fit statistics, which psych computes on
#                  cor.smooth()ed matrices); fa.parallel(x, SMC = FALSE, n.iter = 200) (observed
#                  eigenvalues; mean, sd and 95th percentile of the simulated-data eigenvalues;
#                  nfact/ncomp), fa.parallel(x, SMC = TRUE) observed eigenvalues;
#                  the smallest eigenvalue of the pairwise correlation matrix and the pair counts.
#     listwise  -- fa.parallel(na.omit(x), SMC = FALSE) observed eigenvalues (and random summaries).
#     alpha     -- psych::alpha(x_subscale) with all defaults (use = "pairwise") per subscale.
#     omega     -- psych::omega(x_sub, nfactors = 3 and 2) on short subscales: the first k = 3..6
#                  items of each subscale, listwise, with every warning and message psych gives.
#     mclust    -- Mclust(s, G = g, modelNames = "VVV") for g = 1..6 on the (anxiety, avoidance)
#                  subscale means, scored as the pipeline does (mean of the answered items when at
#                  least 80 % of the subscale's 18 items are answered: 15), complete cases: log-
#                  likelihood, BIC (mclust's sign: 2 logL - npar ln n), npar, means and mixing
#                  proportions; the log-likelihood when mclust's EM is continued from its own
#                  solution with tol = 1e-13 (mclust stops at a relative change of 1e-5); and
#                  Mclust(s, G = 1:6, modelNames = "VVV")'s choice.
#   tests/reference/psych_defaults_nonpd.json for tests/data/pairwise_nonpd.csv (made by
#     tests/data/pairwise_make_data.py), whose pairwise correlation matrix is not positive definite:
#     cor(x, use = "pairwise"), cor.smooth() of it, and KMO, cortest.bartlett and fa(..., 1 and 2
#     factors) of the smoothed matrix with n.obs = nrow(x); also fa(x, 1) on the raw data (psych
#     factors the unsmoothed matrix and smooths only for its fit statistics).
# The Python tests (tests/test_psych_defaults.py) read the same files and apply the same recoding;
# the test suite does not need R. Each JSON records the R and package versions and the data md5.
#
# Needs: psych, GPArotation, mclust, jsonlite.
suppressPackageStartupMessages({
  library(psych)
  library(GPArotation)
  library(mclust)
  library(jsonlite)
})
options(mc.cores = 1)  # fa.parallel uses mclapply: keep it serial so set.seed reproduces it
options(warn = 1)

recode_demo <- function(d) {
  items <- d[, paste0("ecr_", 1:36)]
  items[items == -1 | items == 99] <- NA
  rev <- c(9, 11, 20, 22, 26, 27, 28, 29, 30, 31, 33, 34, 35, 36)
  for (j in rev) items[[paste0("ecr_", j)]] <- 8 - items[[paste0("ecr_", j)]]
  names(items) <- paste0("ecr_r_", 1:36)
  list(items = items, subscales = list(anxiety = paste0("ecr_r_", 1:18),
                                       avoidance = paste0("ecr_r_", 19:36)))
}

recode_ecr5 <- function(d) {
  items <- d[, paste0("Q", 1:36)]
  items[items == 0] <- NA
  rev <- c(3, 15, 19, 22, 25, 27, 29, 31, 33, 35)
  for (j in rev) items[[paste0("Q", j)]] <- 6 - items[[paste0("Q", j)]]
  names(items) <- paste0("ecr_", 1:36)
  list(items = items, subscales = list(anxiety = paste0("ecr_", seq(2, 36, 2)),
                                       avoidance = paste0("ecr_", seq(1, 35, 2))))
}

num <- function(v) unname(as.numeric(v))
mat <- function(m) unname(as.matrix(unclass(m)))

# every warning and message of an expression, and its value
noisy <- function(expr) {
  said <- character()
  value <- withCallingHandlers(expr,
    warning = function(w) { said <<- c(said, paste("warning:", conditionMessage(w)))
                            invokeRestart("muffleWarning") },
    message = function(m) { said <<- c(said, paste("message:", trimws(conditionMessage(m))))
                             invokeRestart("muffleMessage") })
  list(value = value, said = unique(said))
}

fa_summary <- function(f) {
  L <- mat(f$loadings)
  list(
    loadings = L, phi = if (is.null(f$Phi)) diag(ncol(L)) else mat(f$Phi),
    communality = num(f$communality), n_obs = num(f$n.obs),
    objective = num(f$objective), chi2 = num(f$STATISTIC), df = num(f$dof), p = num(f$PVAL),
    tli = num(f$TLI), rmsea = num(f$RMSEA[1]), rmsea_low = num(f$RMSEA[2]),
    rmsea_high = num(f$RMSEA[3]), bic = num(f$BIC), null_chi2 = num(f$null.chisq),
    null_df = num(f$null.dof)
  )
}

parallel_summary <- function(pa, p, n_iter) {
  v <- pa$values
  sim_pc <- v[, paste0("CSim", 1:p)]
  sim_fa <- v[, paste0("Fsim", 1:p)]
  list(n_iter = n_iter, quantile = 0.95,
       eigen_observed_fa = num(pa$fa.values), eigen_observed_pc = num(pa$pc.values),
       random_fa_q95 = num(apply(sim_fa, 2, quantile, 0.95)),
       random_pc_q95 = num(apply(sim_pc, 2, quantile, 0.95)),
       random_fa_mean = num(colMeans(sim_fa)), random_pc_mean = num(colMeans(sim_pc)),
       random_fa_sd = num(apply(sim_fa, 2, sd)), random_pc_sd = num(apply(sim_pc, 2, sd)),
       nfact = num(pa$nfact), ncomp = num(pa$ncomp))
}

score <- function(items, cols, min_answered = 0.8) {
  x <- items[, cols]
  answered <- rowSums(!is.na(x))
  s <- rowMeans(x, na.rm = TRUE)
  s[answered < min_answered * length(cols) - 1e-9] <- NA
  s
}

analyse <- function(rec) {
  items <- rec$items
  x <- items[rowSums(!is.na(items)) > 0, ]
  p <- ncol(x)
  out <- list(n_rows = nrow(items), n = nrow(x), n_complete = nrow(na.omit(x)), items = names(x))

  # ---- pairwise (psych's default with raw data)
  r <- cor(x, use = "pairwise")
  np <- pairwiseCount(x)
  k <- KMO(x)
  b <- cortest.bartlett(x)
  pw <- list(min_eigen = min(eigen(r, only.values = TRUE)$values),
             n_pairs_min = min(np), n_pairs_max = max(np),
             corr_1_2 = r[1, 2], corr_last = r[p - 1, p],
             kmo = num(k$MSA), kmo_item = num(k$MSAi),
             bartlett = list(chi2 = num(b$chisq), df = num(b$df), p = num(b$p.value)))
  efa <- list()
  for (cfg in list(c("minres", "oblimin", 2), c("ml", "oblimin", 2), c("minres", "promax", 2),
                   c("minres", "oblimin", 1))) {
    f <- suppressWarnings(suppressMessages(fa(x, nfactors = as.integer(cfg[3]), fm = cfg[1],
                                              rotate = cfg[2])))
    efa[[paste(cfg, collapse = "_")]] <- fa_summary(f)
  }
  pw$efa <- efa
  set.seed(20261124)
  invisible(capture.output(pa <- fa.parallel(x, fa = "both", SMC = FALSE, n.iter = 200, plot = FALSE)))
  pw$parallel <- parallel_summary(pa, p, 200)
  set.seed(20261124)
  invisible(capture.output(pa_smc <- fa.parallel(x, fa = "both", SMC = TRUE, n.iter = 2, plot = FALSE)))
  pw$parallel_smc_observed_fa <- num(pa_smc$fa.values)
  out$pairwise <- pw

  # ---- listwise, for the SMC = FALSE observed eigenvalues
  xl <- na.omit(x)
  set.seed(20261124)
  invisible(capture.output(pal <- fa.parallel(xl, fa = "both", SMC = FALSE, n.iter = 20, plot = FALSE)))
  out$listwise <- list(n = nrow(xl), parallel = parallel_summary(pal, p, 20))

  # ---- psych::alpha with every default, per subscale
  al <- list()
  for (sub in names(rec$subscales)) {
    xs <- x[, rec$subscales[[sub]]]
    a <- suppressWarnings(psych::alpha(xs, warnings = FALSE))
    al[[sub]] <- list(alpha = num(a$total$raw_alpha), alpha_std = num(a$total$std.alpha),
                      lambda6 = num(a$total[["G6(smc)"]]), average_r = num(a$total$average_r),
                      mean = num(a$total$mean), sd = num(a$total$sd),
                      n_rows = nrow(xs[rowSums(!is.na(xs)) > 0, ]),
                      feldt_low = num(a$feldt$lower.ci), feldt_high = num(a$feldt$upper.ci))
  }
  out$alpha <- al

  # ---- omega on short subscales (first k items of each subscale, listwise)
  om <- list()
  for (sub in names(rec$subscales)) {
    for (k in 3:6) {
      cols <- rec$subscales[[sub]][1:k]
      xs <- na.omit(x[, cols])
      for (nf in c(3, 2)) {
        res <- noisy(psych::omega(xs, nfactors = nf, fm = "minres", rotate = "oblimin", plot = FALSE))
        o <- res$value
        om[[length(om) + 1]] <- list(
          subscale = sub, k = k, nfactors = nf, items = cols, n = nrow(xs),
          omega_h = num(o$omega_h), omega_total = num(o$omega.tot),
          dof = num(o$schmid$dof), said = res$said,
          general_loadings = num(o$schmid$sl[, "g"]), h2 = num(o$schmid$sl[, "h2"]))
      }
    }
  }
  out$omega <- om

  # ---- mclust on the subscale scores
  s <- data.frame(anxiety = score(items, rec$subscales$anxiety),
                  avoidance = score(items, rec$subscales$avoidance))
  s <- s[complete.cases(s), ]
  fits <- list()
  for (g in 1:6) {
    m <- Mclust(s, G = g, modelNames = "VVV", verbose = FALSE)
    if (is.null(m)) {
      fits[[g]] <- list(G = g, loglik = NULL, bic = NULL)
      next
    }
    # mclust's EM stops at a relative log-likelihood change of 1e-5; continue it from its own
    # solution with tol 1e-13 to see where that optimum really is
    more <- em(data = s, modelName = "VVV", parameters = m$parameters,
               control = emControl(tol = c(1e-13, 1e-13), itmax = c(1e6, 1e6)))
    fits[[g]] <- list(G = g, loglik = num(m$loglik), bic = num(m$bic), npar = num(nMclustParams("VVV", 2, g)),
                      means = mat(t(m$parameters$mean)), pro = num(m$parameters$pro),
                      loglik_continued = num(more$loglik), iterations_continued = num(attr(more, "info")[1]),
                      means_continued = mat(t(more$parameters$mean)), pro_continued = num(more$parameters$pro))
  }
  best <- Mclust(s, G = 1:6, modelNames = "VVV", verbose = FALSE)
  out$mclust <- list(n = nrow(s), fits = fits, best_G = num(best$G),
                     bic_table = num(best$BIC[, "VVV"]),
                     score_sums = c(sum(s$anxiety), sum(s$avoidance)))
  out
}

meta <- function(name, file) {
  list(dataset = name, data_file = file, data_md5 = unname(tools::md5sum(file)),
       r_version = R.version.string, psych = as.character(packageVersion("psych")),
       GPArotation = as.character(packageVersion("GPArotation")),
       mclust = as.character(packageVersion("mclust")),
       jsonlite = as.character(packageVersion("jsonlite")),
       script = "tests/r/psych_defaults_reference.R")
}

write_ref <- function(res, name) {
  out <- file.path("tests/reference", paste0("psych_defaults_", name, ".json"))
  write(toJSON(res, digits = NA, auto_unbox = TRUE, matrix = "rowmajor", pretty = TRUE, na = "null",
               null = "null"), out)
  cat("wrote", out, "\n")
}

datasets <- list(
  demo = list(file = "data/raw/demo/responses.csv", recode = recode_demo),
  ecr_5point = list(file = "data/raw/ecr_5point/responses.csv", recode = recode_ecr5)
)
for (name in names(datasets)) {
  ds <- datasets[[name]]
  d <- read.csv(ds$file, stringsAsFactors = FALSE, na.strings = "")
  res <- analyse(ds$recode(d))
  res$meta <- meta(name, ds$file)
  write_ref(res, name)
}

# ---- a pairwise correlation matrix that is not positive definite
file <- "tests/data/pairwise_nonpd.csv"
x <- read.csv(file)
r <- cor(x, use = "pairwise")
sm <- noisy(cor.smooth(r))
rs <- sm$value
k <- KMO(rs)
b <- cortest.bartlett(rs, n = nrow(x))
res <- list(n = nrow(x), corr = mat(r), min_eigen = min(eigen(r, only.values = TRUE)$values),
            n_pairs = mat(pairwiseCount(x)), corr_smoothed = mat(rs), smooth_said = sm$said,
            kmo = num(k$MSA), kmo_item = num(k$MSAi),
            bartlett = list(chi2 = num(b$chisq), df = num(b$df), p = num(b$p.value)))
efa <- list()
for (nf in 1:2) {
  f <- noisy(fa(rs, nfactors = nf, n.obs = nrow(x), fm = "minres", rotate = "oblimin"))
  efa[[paste0("smoothed_", nf)]] <- c(fa_summary(f$value), list(said = f$said))
}
f <- noisy(fa(x, nfactors = 1, fm = "minres"))
efa[["raw_1"]] <- c(fa_summary(f$value), list(said = f$said))
res$efa <- efa
res$meta <- meta("nonpd", file)
write_ref(res, "nonpd")
