# Reference values for src/attachment_pipeline/factors.py, computed with R psych and lavaan.
#
# Run from the repository top:
#   Rscript tests/r/factors_reference.R
# Writes tests/reference/factors_<dataset>.json for two data sets:
#   demo       data/raw/demo/responses.csv       ECR-R items ecr_1..ecr_36 on 1-7; missing codes -1 and
#              99 and blanks -> NA; reverse-keyed 9 11 20 22 26 27 28 29 30 31 33 34 35 36 as 8 - x;
#              renamed ecr_r_1..ecr_r_36; anxiety = 1-18, avoidance = 19-36.
#   ecr_5point data/raw/ecr_5point/responses.csv ECR 1998 items Q1..Q36 on 1-5; 0 -> NA; reverse-keyed
#              3 15 19 22 25 27 29 31 33 35 as 6 - x; renamed ecr_1..ecr_36; odd items avoidance,
#              even items anxiety.
# All analyses use the 36 items together, listwise (na.omit). Computed:
#   psych::KMO, psych::cortest.bartlett(cor(x), n = nrow(x)),
#   psych::fa.parallel(x, fa = "both", SMC = TRUE, n.iter = 200) (observed eigenvalues, and the mean,
#     sd and 95th percentile of the simulated-normal-data eigenvalues, nfact, ncomp),
#   psych::fa with 2 factors: minres+oblimin, ml+oblimin, minres+promax, minres+varimax,
#     minres+geominQ; psych::principal(2, oblimin); fa minres 1 factor and minres+oblimin 3 factors,
#   lavaan::cfa (defaults: ML, marker variable) of the two-factor (correlated) and one-factor models,
#     fitMeasures, parameterEstimates, standardizedSolution, and anova(one, two).
# The Python tests (tests/test_factors.py) read the same CSVs and apply the same recoding; the test
# suite does not need R. The JSON records the R and package versions and the data file's md5.
#
# Needs: psych, GPArotation, lavaan, jsonlite.
suppressPackageStartupMessages({
  library(psych)
  library(GPArotation)
  library(lavaan)
  library(jsonlite)
})
options(mc.cores = 1)  # fa.parallel uses mclapply: keep it serial so set.seed reproduces it
options(warn = 1)

recode_demo <- function(d) {
  items <- d[, paste0("ecr_", 1:36)]
  items[items == -1 | items == 99] <- NA  # missing codes; blanks are already NA
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
mat <- function(m) unname(as.matrix(unclass(m)))  # written row-major by toJSON(matrix = "rowmajor")

fa_summary <- function(f, x) {
  L <- mat(f$loadings)
  list(
    loadings = L,
    phi = if (is.null(f$Phi)) diag(ncol(L)) else mat(f$Phi),
    communality = num(f$communality),
    uniquenesses = num(f$uniquenesses),
    ss_loadings = num(f$Vaccounted["SS loadings", ]),
    proportion_var = num(f$Vaccounted["Proportion Var", ]),
    objective = num(f$objective), chi2 = num(f$STATISTIC), df = num(f$dof), p = num(f$PVAL),
    tli = num(f$TLI), rmsea = num(f$RMSEA[1]), rmsea_low = num(f$RMSEA[2]),
    rmsea_high = num(f$RMSEA[3]), bic = num(f$BIC), null_chi2 = num(f$null.chisq),
    null_df = num(f$null.dof)
  )
}

cfa_summary <- function(fit) {
  fm <- fitMeasures(fit, c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower",
                           "rmsea.ci.upper", "srmr", "baseline.chisq", "baseline.df", "logl",
                           "aic", "bic", "npar", "ntotal"))
  pe <- parameterEstimates(fit)
  ss <- standardizedSolution(fit)
  list(
    fit = as.list(setNames(num(fm), gsub("\\.", "_", names(fm)))),
    params = list(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, est = num(pe$est), se = num(pe$se),
                  est_std = num(ss$est.std))
  )
}

analyse <- function(items, subscales) {
  x <- na.omit(items)
  out <- list(n_rows = nrow(items), n = nrow(x), items = names(x))
  k <- KMO(x)
  out$kmo <- num(k$MSA)
  out$kmo_item <- num(k$MSAi)
  b <- cortest.bartlett(cor(x), n = nrow(x))
  out$bartlett <- list(chi2 = num(b$chisq), df = num(b$df), p = num(b$p.value))

  set.seed(20261124)
  invisible(capture.output(
    pa <- fa.parallel(x, fa = "both", SMC = TRUE, n.iter = 200, plot = FALSE)
  ))
  p <- ncol(x)
  v <- pa$values
  sim_pc <- v[, paste0("CSim", 1:p)]
  sim_fa <- v[, paste0("Fsim", 1:p)]
  out$parallel <- list(
    n_iter = 200, quantile = 0.95,
    eigen_observed_fa = num(pa$fa.values), eigen_observed_pc = num(pa$pc.values),
    random_fa_q95 = num(apply(sim_fa, 2, quantile, 0.95)),
    random_pc_q95 = num(apply(sim_pc, 2, quantile, 0.95)),
    random_fa_mean = num(colMeans(sim_fa)), random_pc_mean = num(colMeans(sim_pc)),
    random_fa_sd = num(apply(sim_fa, 2, sd)), random_pc_sd = num(apply(sim_pc, 2, sd)),
    nfact = num(pa$nfact), ncomp = num(pa$ncomp)
  )

  efa <- list()
  for (cfg in list(c("minres", "oblimin"), c("ml", "oblimin"), c("minres", "promax"),
                   c("minres", "varimax"), c("minres", "geominQ"))) {
    f <- fa(x, nfactors = 2, fm = cfg[1], rotate = cfg[2])
    efa[[paste(cfg, collapse = "_")]] <- fa_summary(f, x)
  }
  efa[["minres_none_1"]] <- fa_summary(fa(x, nfactors = 1, fm = "minres"), x)
  efa[["minres_oblimin_3"]] <- fa_summary(fa(x, nfactors = 3, fm = "minres", rotate = "oblimin"), x)
  pc <- principal(x, nfactors = 2, rotate = "oblimin")
  efa[["principal_oblimin"]] <- list(loadings = mat(pc$loadings), phi = mat(pc$Phi),
                                     communality = num(pc$communality))
  out$efa <- efa

  two <- paste(sapply(names(subscales), function(s)
    paste(s, "=~", paste(subscales[[s]], collapse = " + "))), collapse = "\n")
  one <- paste("general =~", paste(unlist(subscales), collapse = " + "))
  fit2 <- cfa(two, data = x)
  fit1 <- cfa(one, data = x)
  a <- anova(fit1, fit2)
  out$cfa <- list(
    two_factor = c(list(model = lapply(subscales, as.list)), cfa_summary(fit2)),
    one_factor = c(list(model = list(general = as.list(unlist(subscales, use.names = FALSE)))),
                   cfa_summary(fit1)),
    difference = list(chi2_diff = num(a[["Chisq diff"]][2]), df_diff = num(a[["Df diff"]][2]),
                      p = num(a[["Pr(>Chisq)"]][2]))
  )
  out
}

datasets <- list(
  demo = list(file = "data/raw/demo/responses.csv", recode = recode_demo),
  ecr_5point = list(file = "data/raw/ecr_5point/responses.csv", recode = recode_ecr5)
)

for (name in names(datasets)) {
  ds <- datasets[[name]]
  d <- read.csv(ds$file, stringsAsFactors = FALSE, na.strings = "")
  rec <- ds$recode(d)
  res <- analyse(rec$items, rec$subscales)
  res$meta <- list(
    dataset = name, data_file = ds$file, data_md5 = unname(tools::md5sum(ds$file)),
    r_version = R.version.string,
    psych = as.character(packageVersion("psych")),
    lavaan = as.character(packageVersion("lavaan")),
    GPArotation = as.character(packageVersion("GPArotation")),
    jsonlite = as.character(packageVersion("jsonlite")),
    script = "tests/r/factors_reference.R"
  )
  out <- file.path("tests/reference", paste0("factors_", name, ".json"))
  write(toJSON(res, digits = NA, auto_unbox = TRUE, matrix = "rowmajor", pretty = TRUE,
               na = "null"), out)
  cat("wrote", out, "\n")
}
