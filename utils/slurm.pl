#!/usr/bin/env perl
# slurm.pl: runs a command (or an array of numbered tasks) as a Slurm batch job and
# waits for it.
#   slurm.pl [options] [JOB=1:N] <log-file> <command...>      (slurm.pl --help for details)
# Options are mapped to sbatch arguments by conf/slurm.conf (or --config <file>;
# a built-in default when neither exists). --max-jobs-run N becomes --array=a-b%N.
# Each task runs <command> under bash in the current directory, with ./path.sh sourced
# if present; the job script and the scheduler's own output go to <logdir>/q/.
# SIGINT/SIGTERM cancel the job (scancel).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use Jobs::Common qw(parse_command_line);
use Jobs::Cluster qw(run_cluster_job);

my $tool = 'slurm.pl';
my $builtin_config = <<'EOF_CONFIG';
command sbatch --export=PATH --ntasks-per-node=1
option name=* --job-name $0
option time=* --time $0
option mem=* --mem-per-cpu $0
option mem=0
option num_threads=* --cpus-per-task $0
default gpu=0
option gpu=0
option gpu=* --gres=gpu:$0 -c $0
EOF_CONFIG

my $extra_usage = <<"EOF_USAGE";
slurm.pl only:
  Options are translated by conf/slurm.conf (--config <file> to use another file);
  raw sbatch options of the form -p <partition> are passed through.
  Without a config file this built-in one is used:
${\ join('', map { "    $_\n" } split /\n/, $builtin_config)}
e.g.: slurm.pl --mem 2G JOB=1:4 exp/log/feats.JOB.log python -m speechbert.bin.compute_feats data/split4/JOB
EOF_USAGE

# Job states in which a Slurm job may still produce its sync file.
my %ACTIVE = map { $_ => 1 } qw(
  PENDING RUNNING CONFIGURING COMPLETING SUSPENDED REQUEUED REQUEUE_FED REQUEUE_HOLD
  RESIZING SIGNALING STAGE_OUT STOPPED RESV_DEL_HOLD SPECIAL_EXIT
);

my %slurm = (
  task_env => 'SLURM_ARRAY_TASK_ID',
  header_extra => 'echo "# Slurm job ${SLURM_JOB_ID:-?} (array ${SLURM_ARRAY_JOB_ID:-none} task ' .
    '${SLURM_ARRAY_TASK_ID:-none}), partition ${SLURM_JOB_PARTITION:-?}, ' .
    'nodes ${SLURM_JOB_NODELIST:-?}, cpus ${SLURM_CPUS_ON_NODE:-?}"',
  script_setup => '# Some Slurm versions set this placeholder when no GPU was allocated.' . "\n" .
    'if [ "${CUDA_VISIBLE_DEVICES:-}" = NoDevFiles ]; then unset CUDA_VISIBLE_DEVICES; fi',
  output_args => sub { my ($qlog) = @_; return ('--parsable', '-o', $qlog, '--open-mode=append') },
  array_args => sub {
    my ($start, $end, $max) = @_;
    return ("--array=$start-$end" . ($max ? "%$max" : ''));
  },
  parse_job_id => sub {
    my ($out) = @_;
    return $out =~ /^(\d+)(?:;\S+)?\s*$/m ? $1 : undef;
  },
  transient_error => qr/Socket timed out|Unable to contact slurm controller|Resource temporarily unavailable|Slurm temporarily unable/i,
  job_alive => sub {
    my ($id) = @_;
    my ($rc, $out) = Jobs::Cluster::capture('squeue', '-h', '-j', $id, '-o', '%T');
    if ($rc != 0) {
      return 0 if $out =~ /Invalid job id/i;
      return undef;
    }
    for my $state (split ' ', $out) {
      return 1 if $ACTIVE{$state};
    }
    return 0;
  },
  cancel_command => sub { my ($id) = @_; return ('scancel', $id) },
);

# Errors end with exit status 1 (a plain die would exit 255).
$SIG{__DIE__} = sub { return if $^S; print STDERR $_[0]; exit 1; };

my $job = parse_command_line($tool, \@ARGV, $extra_usage);
exit run_cluster_job(
  tool => $tool, job => $job, sched => \%slurm,
  default_config => 'conf/slurm.conf', builtin_config => $builtin_config,
);
