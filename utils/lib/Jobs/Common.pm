package Jobs::Common;

# The parts shared by run.pl, queue.pl and slurm.pl: the command-line contract
#   <tool> [options] [JOB=a:b] <log> <command...>
# JOB substitution, command quoting, the log header/footer format and the
# failure report. Scheduler-specific parts live in Jobs::Cluster.

use strict;
use warnings;
use File::Basename qw(dirname);
use File::Path qw(make_path);
use POSIX qw(strftime);
use Exporter qw(import);

our @EXPORT_OK = qw(
  parse_command_line usage_text die_usage quote_command task_ids
  task_log task_command log_pattern job_logdir ensure_dir
  log_ends_ok log_end_code tail_lines report_and_exit footer_lines
  killed_hint normalize_name
);

sub normalize_name {
  my ($name) = @_;
  $name =~ s/-/_/g;
  return $name;
}

sub usage_text {
  my ($tool, $extra) = @_;
  $extra //= '';
  return <<"EOF";
Usage: $tool [options] [JOB=1:N] <log-file> <command...>
  Runs <command> (once, or once per task of an array job) and writes its output
  to <log-file>. With JOB=1:N (any identifier works, e.g. TASK=1:4; JOB=3 runs the
  single task 3) every occurrence of the identifier in <log-file> and <command> is
  replaced by the task number. Shell metacharacters meant for the job must be
  escaped by the caller (e.g. \\|); arguments containing spaces are re-quoted.
  The command runs under bash with pipefail set (a failing stage of a pipeline
  fails the task). The log begins with '# <command>' and
  '# Started at <date>' and ends with '# Accounting: time=<s> threads=<n>' and
  '# Ended (code <n>) at <date>'. The exit status is 0 only if every task succeeded.
Options:
  --mem <size>            memory per job, e.g. 2G
  --gpu <n>               number of GPUs per job
  --num-threads <n>       CPU threads per job
  --max-jobs-run <n>      run at most n tasks of the array at the same time
  --time <limit>          wall-clock limit, e.g. 4:00:00
  --name <name>           job name shown by the scheduler
  --config <file>         scheduler option mapping (queue.pl/slurm.pl)
  Options may be written --opt value, --opt=value, --opt_name or --opt-name.
$extra
EOF
}

sub die_usage {
  my ($tool, $msg, $extra) = @_;
  print STDERR "$tool: $msg\n" if defined $msg;
  print STDERR usage_text($tool, $extra);
  exit 1;
}

# Parses @$argv. Returns a hash:
#   opts    => { name => value } for --name value options (names normalised)
#   raw     => [ scheduler pass-through options like -q x, -pe smp 4, -V ]
#   jobvar, start, end, array (1 if a:b form), logfile, cmd (quoted string)
sub parse_command_line {
  my ($tool, $argv, $extra_usage) = @_;
  my @args = @$argv;
  my %opts;
  my @raw;
  my ($jobvar, $start, $end, $array) = (undef, undef, undef, 0);

  # Two passes so that JOB=a:b may be interleaved with the options.
  for my $pass (1 .. 2) {
    while (@args && $args[0] =~ /^-/) {
      my $arg = shift @args;
      if ($arg eq '--help' || $arg eq '-h') {
        print usage_text($tool, $extra_usage);
        exit 0;
      }
      last if $arg eq '--';
      if ($arg =~ /^--([A-Za-z][\w-]*)(?:=(.*))?$/s) {
        my $name = normalize_name($1);
        my $value = $2;
        if (!defined $value) {
          die_usage($tool, "option --$1 needs a value", $extra_usage) unless @args;
          $value = shift @args;
        }
        $opts{$name} = $value;
      } elsif ($arg eq '-pe') {
        die_usage($tool, "option -pe needs two values", $extra_usage) unless @args >= 2;
        push @raw, $arg, shift @args, shift @args;
      } elsif ($arg eq '-V' || $arg eq '-cwd') {
        push @raw, $arg;
      } elsif ($arg =~ /^-[A-Za-z]/) {
        die_usage($tool, "option $arg needs a value", $extra_usage) unless @args;
        push @raw, $arg, shift @args;
      } else {
        die_usage($tool, "bad option '$arg'", $extra_usage);
      }
    }
    if ($pass == 1 && @args && $args[0] =~ /^([A-Za-z_]\w*)=(\S*)$/) {
      my ($var, $range) = ($1, $2);
      if ($range =~ /^(\d+):(\d+)$/) {
        ($start, $end, $array) = ($1, $2, 1);
      } elsif ($range =~ /^(\d+)$/) {
        ($start, $end) = ($1, $1);
      } else {
        die "$tool: bad job range '$args[0]': expected $var=<first>:<last> or $var=<n>\n";
      }
      die "$tool: bad job range '$args[0]': the first task must be >= 1\n" if $start < 1;
      die "$tool: bad job range '$args[0]': the last task is smaller than the first\n"
        if $end < $start;
      $jobvar = $var;
      shift @args;
    }
  }
  die_usage($tool, "expected <log-file> <command...>", $extra_usage) if @args < 2;
  my $logfile = shift @args;
  if ($array && index($logfile, $jobvar) < 0) {
    die "$tool: you are trying to run a parallel job ($jobvar=$start:$end) but the log file " .
      "'$logfile' does not contain $jobvar, so every task would write the same log; " .
      "use e.g. " . log_example($logfile, $jobvar) . "\n";
  }
  for my $k (qw(gpu num_threads max_jobs_run)) {
    if (defined $opts{$k} && $opts{$k} !~ /^\d+$/) {
      (my $flag = $k) =~ s/_/-/g;
      die "$tool: --$flag expects a non-negative integer, got '$opts{$k}'\n";
    }
  }
  return {
    opts => \%opts, raw => \@raw, jobvar => $jobvar, start => $start // 1,
    end => $end // 1, array => $array, logfile => $logfile,
    cmd => quote_command(@args),
  };
}

sub log_example {
  my ($logfile, $jobvar) = @_;
  my $ex = $logfile;
  $ex =~ s/\.log$// and return "$ex.$jobvar.log";
  return "$logfile.$jobvar";
}

# Joins command words into one bash command line. Words without whitespace are
# kept as they are (so an escaped \| from the caller becomes a pipe in the job);
# words with whitespace are single-quoted.
sub quote_command {
  my @words = @_;
  my @out;
  for my $w (@words) {
    if ($w eq '') {
      push @out, "''";
    } elsif ($w =~ /\s/) {
      (my $q = $w) =~ s/'/'\\''/g;
      push @out, "'$q'";
    } else {
      push @out, $w;
    }
  }
  return join(' ', @out);
}

sub task_ids {
  my ($job) = @_;
  return ($job->{start} .. $job->{end});
}

sub substitute {
  my ($text, $var, $id) = @_;
  return $text unless defined $var;
  $text =~ s/\Q$var\E/$id/g;
  return $text;
}

sub task_log { my ($job, $id) = @_; return substitute($job->{logfile}, $job->{jobvar}, $id); }
sub task_command { my ($job, $id) = @_; return substitute($job->{cmd}, $job->{jobvar}, $id); }

sub log_pattern {
  my ($job) = @_;
  return $job->{logfile} unless $job->{array};
  return substitute($job->{logfile}, $job->{jobvar}, '*');
}

sub job_logdir {
  my ($job) = @_;
  return dirname(task_log($job, $job->{start}));
}

sub ensure_dir {
  my ($tool, $dir) = @_;
  return if -d $dir;
  eval { make_path($dir); 1 } or die "$tool: cannot create directory $dir: $@\n";
  -d $dir or die "$tool: cannot create directory $dir\n";
}

# The exit code recorded in a finished log, or undef if the log is missing or
# has no '# Ended (code N)' line (still running, interrupted, never started).
sub log_end_code {
  my ($log) = @_;
  my @tail = tail_lines($log, 5);
  for my $line (reverse @tail) {
    return $1 if $line =~ /^# Ended \(code (-?\d+)\)/;
  }
  return undef;
}

sub log_ends_ok {
  my ($log) = @_;
  my $code = log_end_code($log);
  return defined($code) && $code == 0;
}

sub tail_lines {
  my ($file, $n) = @_;
  open(my $fh, '<', $file) or return ();
  my @buf;
  while (my $line = <$fh>) {
    chomp $line;
    push @buf, $line;
    shift @buf if @buf > $n;
  }
  close $fh;
  return @buf;
}

sub killed_hint {
  my ($code) = @_;
  return '' unless defined $code;
  return 'killed with SIGKILL (out of memory? exceeded the memory limit?)' if $code == 137;
  return 'terminated by SIGTERM (cancelled, or the time limit was reached?)' if $code == 143;
  return '';
}

sub footer_lines {
  my ($elapsed, $threads, $code) = @_;
  my @lines;
  push @lines, '# Job killed with SIGKILL (out of memory? exceeded the memory limit?)'
    if $code == 137;
  push @lines, "# Accounting: time=$elapsed threads=$threads";
  push @lines, "# Ended (code $code) at " . strftime('%a %b %e %H:%M:%S %Z %Y', localtime);
  return @lines;
}

# Prints the failure summary (and the tail of the first failing log) and exits
# non-zero when any task failed; returns otherwise.
#   $results: { task_id => exit code or undef (no result) }
#   $why:     optional { task_id => reason text } for tasks without a code
sub report_and_exit {
  my ($tool, $job, $results, $why) = @_;
  $why //= {};
  my @ids = sort { $a <=> $b } keys %$results;
  my @failed = grep { !defined($results->{$_}) || $results->{$_} != 0 } @ids;
  return unless @failed;

  my $first = $failed[0];
  my $first_log = task_log($job, $first);
  if (@ids == 1 && !$job->{array}) {
    print STDERR "$tool: job failed" . describe($results->{$first}, $why->{$first}) .
      ", log is in $first_log\n";
    if (!defined $job->{jobvar} && $job->{logfile} =~ /JOB/) {
      print STDERR "$tool: probably you forgot to put JOB=1:\$nj in your script\n";
    }
  } else {
    print STDERR "$tool: " . scalar(@failed) . " / " . scalar(@ids) .
      " failed, log is in " . log_pattern($job) . "\n";
    my @list = map { "$_" . describe($results->{$_}, $why->{$_}) } @failed;
    @list = (@list[0 .. 9], '...') if @list > 10;
    print STDERR "$tool: failed tasks: " . join(', ', @list) . "\n";
  }
  my @tail = tail_lines($first_log, 20);
  if (@tail) {
    print STDERR "$tool: last lines of $first_log:\n";
    print STDERR "  $_\n" for @tail;
  } else {
    print STDERR "$tool: $first_log is missing or empty\n";
  }
  exit 1;
}

sub describe {
  my ($code, $why) = @_;
  return " ($why)" if defined $why;
  return '' unless defined $code;
  my $hint = killed_hint($code);
  return $hint ? " (code $code: $hint)" : " (code $code)";
}

1;
