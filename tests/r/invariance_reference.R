# Reference values for src/attachment_pipeline/invariance.py and src/attachment_pipeline/pooled.py.
#
# Run from the repository top:
#   Rscript tests/r/invariance_reference.R
# Data (made by tests/data/invariance_make_data.py with attachment_pipeline.simulate; ECR-R items
# ecr_r_1..ecr_r_36 on 1-7, already reverse-keyed; empty = NA):
#   tests/data/invariance_cohorts.csv     cohorts A, B, C (invariant items) with a gender column
#   tests/data/invariance_intercepts.csv  cohorts X, Y (items 3, 10, 25 with higher intercepts in Y)
#
# Writes tests/reference/invariance_lavaan.json: for each case, lavaan::cfa (defaults: ML,
# likelihood "normal", marker variable, mean structure with group =) of the two-factor model
# (anxiety =~ first items, avoidance =~ the others) at three levels:
#   configural  cfa(model, data, group = g)
#   metric      cfa(model, data, group = g, group.equal = "loadings")
#   scalar      cfa(model, data, group = g, group.equal = c("loadings", "intercepts"))
# with fitMeasures, parameterEstimates, standardizedSolution, lavTestLRT (anova) between levels
# and the group labels and sizes. Listwise within the model items and the group column (rows with
# a missing group value are removed here explicitly; lavaan would drop them with a warning).
#   cohorts_36  invariance_cohorts.csv, all 36 items, group = cohort
#   intercepts_36  invariance_intercepts.csv, all 36 items, group = cohort
#   gender_6    invariance_cohorts.csv, items 1-3 (anxiety) and 19-21 (avoidance), group = gender
#               (three groups, one of about 20 respondents)
#   cohorts_12  invariance_cohorts.csv, items 1-6 and 19-24, group = cohort
#
# Writes tests/reference/invariance_pooled.json: hand computations (base R only) from the same data:
#   per cohort of invariance_cohorts.csv and subscale (listwise within the subscale): Cronbach's alpha
#   (psych::alpha), n and k; the Feldt (1969) test of A vs B, the Hakstian & Whalen (1976) k-sample
#   test of A, B, C, and the Feldt, Woodruff & Salih (1987) version (as cocron);
#   per cohort the Pearson correlation of the anxiety and avoidance item means (complete cases) and
#   a DerSimonian-Laird random-effects meta-analysis of them via Fisher's z (Borenstein et al. 2009,
#   ch. 12 and 16, written out by hand because metafor is not installed);
#   per cohort the counts of the four styles (midpoint rule: mean > 4 is high, ties low) and
#   chisq.test of the cohorts x styles table (no continuity correction), Cramer's V.
# The Python tests read the CSVs and the JSON; the test suite does not need R.
#
# Needs: lavaan, psych, jsonlite.
suppressPackageStartupMessages({
  library(lavaan)
  library(psych)
  library(jsonlite)
})
options(warn = 1)

num <- function(v) unname(as.numeric(v))

read_items <- function(file) read.csv(file, stringsAsFactors = FALSE, na.strings = "")

model_string <- function(model) {
  paste(sapply(names(model), function(f) paste(f, "=~", paste(model[[f]], collapse = " + "))),
        collapse = "\n")
}

fit_summary <- function(fit) {
  fm <- fitMeasures(fit, c("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower",
                           "rmsea.ci.upper", "srmr", "srmr_bentler_nomean", "baseline.chisq",
                           "baseline.df", "logl", "aic", "bic", "ntotal"))
  pe <- parameterEstimates(fit)
  ss <- standardizedSolution(fit)
  glab <- lavInspect(fit, "group.label")
  list(
    fit = as.list(setNames(num(fm), gsub("\\.", "_", names(fm)))),
    converged = lavInspect(fit, "converged"),
    params = list(group = glab[pe$group], lhs = pe$lhs, op = pe$op, rhs = pe$rhs,
                  est = num(pe$est), se = num(pe$se), est_std = num(ss$est.std))
  )
}

invariance_case <- function(file, model, group) {
  d <- read_items(file)
  items <- unlist(model, use.names = FALSE)
  x <- d[complete.cases(d[, c(items, group)]), c(group, items)]
  ms <- model_string(model)
  levels <- list(configural = "", metric = "loadings", scalar = c("loadings", "intercepts"))
  fits <- lapply(levels, function(eq) cfa(ms, data = x, group = group, group.equal = eq))
  out <- list(
    data_file = file, group = group, model = lapply(model, as.list), n_rows = nrow(d), n = nrow(x),
    group_labels = lavInspect(fits$configural, "group.label"),
    group_n = num(unlist(lavInspect(fits$configural, "nobs"))),
    levels = lapply(fits, fit_summary)
  )
  lrt <- lavTestLRT(fits$configural, fits$metric, fits$scalar)
  out$lrt <- list(chisq_diff = num(lrt[["Chisq diff"]]), df_diff = num(lrt[["Df diff"]]),
                  p = num(lrt[["Pr(>Chisq)"]]))
  out
}

anx <- function(k) paste0("ecr_r_", k)
full <- list(anxiety = anx(1:18), avoidance = anx(19:36))
cases <- list(
  cohorts_36 = invariance_case("tests/data/invariance_cohorts.csv", full, "cohort"),
  intercepts_36 = invariance_case("tests/data/invariance_intercepts.csv", full, "cohort"),
  gender_6 = invariance_case("tests/data/invariance_cohorts.csv",
                             list(anxiety = anx(1:3), avoidance = anx(19:21)), "gender"),
  cohorts_12 = invariance_case("tests/data/invariance_cohorts.csv",
                               list(anxiety = anx(1:6), avoidance = anx(19:24)), "cohort")
)

files <- c("tests/data/invariance_cohorts.csv", "tests/data/invariance_intercepts.csv")
meta <- list(
  r_version = R.version.string,
  lavaan = as.character(packageVersion("lavaan")),
  psych = as.character(packageVersion("psych")),
  jsonlite = as.character(packageVersion("jsonlite")),
  data_files = as.list(setNames(unname(tools::md5sum(files)), files)),
  script = "tests/r/invariance_reference.R"
)
write(toJSON(list(meta = meta, cases = cases), digits = NA, auto_unbox = TRUE, pretty = TRUE,
             na = "null"), "tests/reference/invariance_lavaan.json")
cat("wrote tests/reference/invariance_lavaan.json\n")

# ----------------------------------------------------------------------------- pooled statistics
d <- read_items("tests/data/invariance_cohorts.csv")
cohorts <- unique(d$cohort)

# Cronbach's alpha per cohort and subscale (listwise within the subscale)
alphas <- list()
for (s in names(full)) {
  rows <- lapply(cohorts, function(cc) {
    x <- na.omit(d[d$cohort == cc, full[[s]]])
    a <- psych::alpha(x, warnings = FALSE)$total$raw_alpha
    list(cohort = cc, alpha = num(a), n = nrow(x), k = ncol(x))
  })
  alphas[[s]] <- rows
}

feldt_1969 <- function(a1, a2, n1, n2) {
  # W = (1 - a1) / (1 - a2) ~ F(n2 - 1, n1 - 1) under H0 (Feldt 1969); two-sided p
  w <- (1 - a1) / (1 - a2)
  p_low <- pf(w, n2 - 1, n1 - 1)
  list(statistic = w, df = n2 - 1, df2 = n1 - 1, p = 2 * min(p_low, 1 - p_low))
}

hakstian_whalen <- function(a, n, k) {
  # u = (1 - a)^(1/3), var = 18 k (n - 1) (1 - a)^(2/3) / ((k - 1) (9 n - 11)^2)  (Hakstian & Whalen 1976)
  u <- (1 - a)^(1 / 3)
  v <- 18 * k * (n - 1) * (1 - a)^(2 / 3) / ((k - 1) * (9 * n - 11)^2)
  ubar <- sum(u / v) / sum(1 / v)
  stat <- sum((u - ubar)^2 / v)
  list(statistic = stat, df = length(a) - 1, p = pchisq(stat, length(a) - 1, lower.tail = FALSE),
       u = u, var = v)
}

fws_1987 <- function(a, n, k) {
  # cocron::cocron.n.coefficients(indep = TRUE): Feldt, Woodruff & Salih (1987)
  m <- length(a)
  ubar <- sum((1 - a)^(-1 / 3)) / m
  nt <- (k - 1) * n / (k + 1)
  v <- 2 / (9 * (nt - 1) * (1 - a)^(2 / 3))
  stat <- sum(((1 - a)^(-1 / 3) - ubar)^2 / mean(v))
  list(statistic = stat, df = m - 1, p = pchisq(stat, m - 1, lower.tail = FALSE))
}

alpha_tests <- list()
for (s in names(full)) {
  a <- sapply(alphas[[s]], `[[`, "alpha")
  n <- sapply(alphas[[s]], `[[`, "n")
  k <- sapply(alphas[[s]], `[[`, "k")
  alpha_tests[[s]] <- list(
    feldt_AB = feldt_1969(a[1], a[2], n[1], n[2]),
    hakstian_whalen = hakstian_whalen(a, n, k),
    fws = fws_1987(a, n, k)
  )
}
# published examples (cocron's tests: Feldt, Woodruff & Salih 1987; AlphaTest)
published <- list(
  fws_example = fws_1987(c(.784, .875, .936), c(51, 101, 151), c(5, 5, 5)),
  hw_example = hakstian_whalen(c(.784, .875, .936), c(51, 101, 151), c(5, 5, 5)),
  feldt_example = feldt_1969(.78, .71, 41, 151)
)

# correlation of the two dimension scores per cohort and DerSimonian-Laird pooling
cors <- lapply(cohorts, function(cc) {
  x <- d[d$cohort == cc, ]
  s1 <- rowMeans(x[, full$anxiety])
  s2 <- rowMeans(x[, full$avoidance])
  ok <- complete.cases(s1, s2)
  list(cohort = cc, r = cor(s1[ok], s2[ok]), n = sum(ok))
})
dl <- function(r, n) {
  z <- atanh(r); v <- 1 / (n - 3); w <- 1 / v
  zf <- sum(w * z) / sum(w)
  q <- sum(w * (z - zf)^2); dfq <- length(r) - 1
  cc <- sum(w) - sum(w^2) / sum(w)
  tau2 <- max(0, (q - dfq) / cc)
  ws <- 1 / (v + tau2)
  zr <- sum(ws * z) / sum(ws); se <- sqrt(1 / sum(ws))
  list(z = zr, se = se, r = tanh(zr), ci_low = tanh(zr - qnorm(.975) * se),
       ci_high = tanh(zr + qnorm(.975) * se), tau2 = tau2, q = q, q_df = dfq,
       q_p = pchisq(q, dfq, lower.tail = FALSE), i2 = if (q > 0) max(0, (q - dfq) / q) * 100 else 0,
       weight = 100 * ws / sum(ws), z_test = zr / se, p = 2 * pnorm(-abs(zr / se)),
       fixed_z = zf)
}
r_in <- sapply(cors, `[[`, "r"); n_in <- sapply(cors, `[[`, "n")
meta_data <- dl(r_in, n_in)
# a heterogeneous textbook-style example
meta_example_in <- list(r = c(0.10, 0.35, 0.52, 0.28, -0.05), n = c(60, 120, 45, 300, 80))
meta_example <- dl(meta_example_in$r, meta_example_in$n)

# style prevalence by the midpoint rule (score > 4 is high; ties low)
styles <- c("secure", "preoccupied", "dismissing", "fearful")
counts <- t(sapply(cohorts, function(cc) {
  x <- d[d$cohort == cc, ]
  s1 <- rowMeans(x[, full$anxiety]); s2 <- rowMeans(x[, full$avoidance])
  ok <- complete.cases(s1, s2)
  st <- styles[1 + (s1[ok] > 4) + 2 * (s2[ok] > 4)]
  as.numeric(table(factor(st, levels = styles)))
}))
dimnames(counts) <- list(cohorts, styles)
ct <- chisq.test(counts, correct = FALSE)
prevalence <- list(cohorts = cohorts, styles = styles, counts = unname(counts),
                   chi2 = num(ct$statistic), df = num(ct$parameter), p = num(ct$p.value),
                   cramers_v = num(sqrt(ct$statistic / (sum(counts) * (min(dim(counts)) - 1)))),
                   min_expected = min(ct$expected))

pooled <- list(meta = meta, alphas = alphas, alpha_tests = alpha_tests, published = published,
               correlations = cors, meta_analysis = meta_data,
               meta_example = list(input = meta_example_in, result = meta_example),
               prevalence = prevalence)
write(toJSON(pooled, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null", matrix = "rowmajor"),
      "tests/reference/invariance_pooled.json")
cat("wrote tests/reference/invariance_pooled.json\n")
